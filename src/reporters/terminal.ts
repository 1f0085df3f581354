/**
 * Where output goes and what it can show. Every renderer receives one of these instead of reading
 * `process.stdout.isTTY`, `NO_COLOR` or `COLUMNS` itself, so a test can render for a terminal in
 * process and the decision is made once, at the edge (src/cli.ts).
 */

export interface OutputStream {
  write(text: string): void;
  /** A terminal a person reads (boxed tables, charts, spinners), not a pipe or a file. */
  isTTY: boolean;
  /** ANSI colour allowed: a terminal, NO_COLOR unset, TERM not "dumb". */
  colour: boolean;
  /** The terminal's width; 0 when unknown (a pipe) or reported as 0 (some `docker exec -t`). */
  columns: number;
}

export interface CliIo {
  stdout: OutputStream;
  stderr: OutputStream;
}

/** The three ways a command's result is printed. */
export type OutputMode = 'json' | 'human' | 'plain';

export function outputMode(stream: OutputStream, json: boolean): OutputMode {
  return json ? 'json' : stream.isTTY ? 'human' : 'plain';
}

function streamOf(stream: NodeJS.WriteStream, env: NodeJS.ProcessEnv): OutputStream {
  const isTTY = stream.isTTY === true;
  return {
    write: (text) => void stream.write(text),
    isTTY,
    colour: isTTY && env.NO_COLOR === undefined && env.TERM !== 'dumb',
    columns: isTTY ? Math.max(0, stream.columns || 0) : 0,
  };
}

/** The process's own streams, described once. */
export function processIo(env: NodeJS.ProcessEnv = process.env): CliIo {
  return { stdout: streamOf(process.stdout, env), stderr: streamOf(process.stderr, env) };
}

/** A stream that collects what is written (tests, and rendering to a string). */
export function memoryStream(
  options: Partial<Omit<OutputStream, 'write'>> = {},
): OutputStream & { text: string } {
  const stream = {
    text: '',
    isTTY: options.isTTY ?? false,
    colour: options.colour ?? false,
    columns: options.columns ?? 0,
    write(text: string) {
      stream.text += text;
    },
  };
  return stream;
}
