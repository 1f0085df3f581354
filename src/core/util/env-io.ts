/**
 * The environment refusing a write: a read-only or full filesystem, missing permissions, a failing
 * disk. These are neither bugs (exit 1) nor bad input: they are EnvironmentIoError (exit 74,
 * sysexits EX_IOERR), whose message names the path and the cause, so an operator can fix the
 * machine and run the command again. Writers wrap their I/O with `guardWrite` where the path and
 * the purpose are known; the CLI runner maps what still escapes with `asEnvironmentIoError`.
 */
import { EnvironmentIoError, FaissError, IndexctlError } from '../errors.js';

/** errno codes that mean "the environment said no", with what an operator reads for each. */
const CAUSES: Record<string, string> = {
  EACCES: 'permission denied (EACCES): run as the owner of the index root, or fix its permissions',
  EPERM: 'operation not permitted (EPERM): an immutable file, or missing privileges',
  EROFS: 'read-only filesystem (EROFS)',
  ENOSPC: 'no space left on the device (ENOSPC)',
  EDQUOT: 'disk quota exceeded (EDQUOT)',
  EIO: 'I/O error from the device (EIO): see the kernel log',
};

export const ENVIRONMENT_ERRNOS = Object.keys(CAUSES);

/**
 * FAISS and DuckDB report a refused write as text with the C library's strerror: "could not open
 * ... for writing: No space left on device". Mapped only for errors raised while writing a known
 * path (guardWrite), never for arbitrary errors.
 */
const STRERROR: [RegExp, string][] = [
  [/Permission denied/, 'EACCES'],
  [/Operation not permitted/, 'EPERM'],
  [/Read-only file system/, 'EROFS'],
  [/No space left on device/, 'ENOSPC'],
  [/Disk quota exceeded/, 'EDQUOT'],
  [/Input\/output error/, 'EIO'],
];

type ErrnoError = NodeJS.ErrnoException & { dest?: string };

function errnoOf(err: unknown): string | undefined {
  const code = (err as ErrnoError | null)?.code;
  return typeof code === 'string' && code in CAUSES ? code : undefined;
}

/**
 * `err` as EnvironmentIoError when the environment refused an I/O, else undefined. `doing` says
 * what was being written; the path is the error's own (Node's errno errors carry `path`, and `dest`
 * for a rename or link), else `file`. Errors already typed (other than FAISS's) are left alone, and
 * a FAISS or DuckDB message is only read for its strerror when `file` says what was written.
 */
export function asEnvironmentIoError(
  err: unknown,
  doing?: string,
  file?: string,
): EnvironmentIoError | undefined {
  if (err instanceof EnvironmentIoError) return err;
  if (err instanceof IndexctlError && !(err instanceof FaissError)) return undefined;
  const e = err as ErrnoError;
  let code = errnoOf(err);
  let where: string | undefined;
  let said = '';
  if (code !== undefined) {
    const p = typeof e.path === 'string' ? e.path : file;
    if (p === undefined) return undefined;
    where = `${e.syscall ? `${e.syscall} ` : ''}${p}${typeof e.dest === 'string' ? ` -> ${e.dest}` : ''}`;
  } else if (file !== undefined && err instanceof Error) {
    code = STRERROR.find(([re]) => re.test(err.message))?.[1];
    if (code === undefined) return undefined;
    where = file;
    // The library's own words carry the exact file it was writing.
    said = `: ${err.message.split('\n')[0]}`;
  } else {
    return undefined;
  }
  return new EnvironmentIoError(`${doing ? `${doing}: ` : ''}${where}: ${CAUSES[code]}${said}`, {
    cause: err,
  });
}

/** Runs `work`; an I/O the environment refuses comes out as EnvironmentIoError naming `file`. */
export async function guardWrite<T>(doing: string, file: string, work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (err) {
    throw asEnvironmentIoError(err, doing, file) ?? err;
  }
}

/** guardWrite for synchronous work. */
export function guardWriteSync<T>(doing: string, file: string, work: () => T): T {
  try {
    return work();
  } catch (err) {
    throw asEnvironmentIoError(err, doing, file) ?? err;
  }
}
