/** What every command receives and returns; printing is the CLI runner's job. */

export interface GlobalOptions {
  root: string;
  json: boolean;
  quiet: boolean;
  threads?: number;
  verbose: boolean;
}

/** `O` is the command's typed options, derived from its rows of src/cli-options.ts. */
export interface CommandContext<O = Record<string, unknown>> {
  args: string[];
  options: O;
  globals: GlobalOptions;
  /** Progress and notes for humans: stderr, silenced by --quiet and --json. */
  log: (line: string) => void;
}

export interface CommandOutput {
  /** The versioned --json document. */
  json: { schema: string };
  /** The human rendering of the same result. */
  text: string;
  exitCode?: number;
}
