/** What every command receives and returns; printing is the CLI runner's job. */
import type { DuckDBLimits } from '../core/catalog/duckdb-limits.js';
import type { ProbeEnv } from '../core/verify/probe-client.js';
import type { CliIo, OutputStream } from '../reporters/terminal.js';

export interface GlobalOptions {
  root: string;
  json: boolean;
  quiet: boolean;
  threads?: number;
  verbose: boolean;
  /** --duckdb-memory / --duckdb-threads, else INDEXCTL_DUCKDB_MEMORY / INDEXCTL_DUCKDB_THREADS. */
  duckdb: DuckDBLimits;
  /** INDEXCTL_PROBE_TIMEOUT / INDEXCTL_PROBE_MEMORY, read here at the edge and parsed by verify. */
  probeEnv: ProbeEnv;
}

/** `O` is the command's typed options, derived from its rows of src/cli-options.ts. */
export interface CommandContext<O = Record<string, unknown>> {
  args: string[];
  options: O;
  globals: GlobalOptions;
  /** The streams, with what each can show (terminal, colour, width): for progress on stderr. */
  io: CliIo;
  /**
   * Aborted (reason: InterruptedError) when the operator sends SIGINT, SIGTERM or SIGHUP: passed to
   * core, whose long loops check it between batches and clean up as for any failure.
   */
  signal: AbortSignal;
  /** Progress and notes for humans: stderr, silenced by --quiet and --json. */
  log: (line: string) => void;
}

export interface CommandOutput {
  /** The versioned --json document. */
  json: { schema: string };
  /**
   * The same result for people: `out` is stdout, a terminal (boxed tables, colour, charts) or a
   * pipe (plain aligned text). Not called with --json.
   */
  render: (out: OutputStream) => string;
  exitCode?: number;
  /** The command used stdout as its channel (serve over stdio): the runner prints nothing there. */
  stdoutTaken?: boolean;
  /**
   * What --quiet prints on stdout instead of `render`: '' for commands whose effect is the point
   * (publish, rollback, pin, gc --yes), the one value a script wants (build: the version name).
   * Absent: the command exists for its output (status, verify, search, tune), printed as usual.
   */
  quiet?: string;
}
