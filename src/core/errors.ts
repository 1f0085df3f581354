/**
 * The error hierarchy. Each class carries the process exit code the CLI uses for it (docs/spec.md
 * "Exit codes"); core code throws these, and only the top-level runner turns them into an exit code.
 */

export const ExitCode = {
  ok: 0,
  internal: 1,
  usage: 2,
  invariant: 3,
  corruption: 4,
  badInput: 5,
  notFound: 6,
  ioError: 74,
  lockHeld: 75,
  /** 128 + the signal's number, as shells report a process a signal ended. */
  sighup: 129,
  sigint: 130,
  sigterm: 143,
} as const;
export type ExitCodeValue = (typeof ExitCode)[keyof typeof ExitCode];

export class IndexctlError extends Error {
  readonly exitCode: ExitCodeValue = ExitCode.internal;
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** Unknown flag, missing argument, invalid version name. */
export class UsageError extends IndexctlError {
  override readonly exitCode = ExitCode.usage;
}

/** Counts, ids, dimensions or coverage disagree. */
export class InvariantViolationError extends IndexctlError {
  override readonly exitCode = ExitCode.invariant;
}

/** Checksum mismatch, unreadable or truncated file. */
export class IndexCorruptionError extends IndexctlError {
  override readonly exitCode = ExitCode.corruption;
}

/** The chunks file or a query file is unusable. */
export class BadInputError extends IndexctlError {
  override readonly exitCode = ExitCode.badInput;
}

/** Root, version or CURRENT missing. */
export class NotFoundError extends IndexctlError {
  override readonly exitCode = ExitCode.notFound;
}

/**
 * The environment refused an I/O the command needed: EACCES, EPERM, EROFS, ENOSPC, EDQUOT, EIO
 * (sysexits EX_IOERR). The message names the path and the cause; nothing was published.
 */
export class EnvironmentIoError extends IndexctlError {
  override readonly exitCode = ExitCode.ioError;
}

/** Another writer holds the lock. */
export class LockHeldError extends IndexctlError {
  override readonly exitCode = ExitCode.lockHeld;
}

/**
 * An exception raised inside FAISS (or the C++ binding), with FAISS's own message. Its exit code is
 * internal by default; callers that know the cause (a bad factory string is bad input) rethrow it
 * as the right class with this one as `cause`.
 */
export class FaissError extends IndexctlError {}

/** The native addon could not be loaded; the message lists what was tried and how to fix it. */
export class NativeLoadError extends IndexctlError {}

/** The signals that cancel a command, and the exit code each gives (128 + signo). */
export const CANCEL_SIGNALS = {
  SIGHUP: ExitCode.sighup,
  SIGINT: ExitCode.sigint,
  SIGTERM: ExitCode.sigterm,
} as const;
export type CancelSignal = keyof typeof CANCEL_SIGNALS;

/**
 * The operator cancelled (Ctrl-C, SIGTERM, SIGHUP). The CLI runner aborts the command's AbortSignal
 * with this as the reason; core code that checks `signal.throwIfAborted()` between batches throws it,
 * and its usual error cleanup (staging removed, lock released) runs as for any failure.
 */
export class InterruptedError extends IndexctlError {
  override readonly exitCode: ExitCodeValue;
  constructor(readonly signal: CancelSignal) {
    super(`interrupted by ${signal}`);
    this.exitCode = CANCEL_SIGNALS[signal];
  }
}
