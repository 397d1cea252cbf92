/** Reads a shared secret kept in its own file. */
import { MAX_SECRET_FILE_BYTES } from './constants.js';
import { AuthError, invalidArgument, RefusedFileError } from './errors.js';
import { type Logger, log } from './logger.js';
import { readRegularFile } from './regular-file.js';

export interface ReadSecretFileOptions {
  /** Receives the permission warning. */
  readonly logger?: Logger;
}

export interface SecretFile {
  /** The file's content without one trailing newline. Never log it. */
  readonly secret: string;
  /** Problems worth telling the operator about (e.g. permissions); the secret is usable anyway. */
  readonly warnings: readonly string[];
}

/**
 * Reads `path`, removes one trailing newline (`\n` or `\r\n`, as `echo` and editors leave one), and warns
 * when the file is readable by group or others.
 * Throws `AUTH_SECRET_UNREADABLE` (missing file, no permission, not a regular file, larger than 4 KiB) or
 * `AUTH_SECRET_EMPTY`.
 */
export async function readSecretFile(path: string, options: ReadSecretFileOptions = {}): Promise<SecretFile> {
  if (typeof path !== 'string' || path === '') throw invalidArgument('path', 'a file path', path);
  let content: string;
  let mode: number;
  try {
    const file = await readRegularFile(path, MAX_SECRET_FILE_BYTES);
    mode = file.stats.mode;
    content = file.bytes.toString('utf8');
  } catch (error) {
    throw new AuthError(
      'AUTH_SECRET_UNREADABLE',
      `cannot read the shared secret file ${path}: ${fsReason(error)}`,
      { cause: error, option: 'path' },
    );
  }
  const secret = content.replace(/\r?\n$/, '');
  if (secret === '') {
    throw new AuthError(
      'AUTH_SECRET_EMPTY',
      `the shared secret file ${path} is empty; put the secret NervesHub issued in it, on one line`,
      { option: 'path' },
    );
  }
  const warnings: string[] = [];
  if ((mode & 0o044) !== 0) {
    const who = (mode & 0o004) !== 0 ? 'all users' : 'its group';
    warnings.push(
      `the shared secret file ${path} is readable by ${who} (mode ${(mode & 0o777).toString(8)}); run chmod 600 ${path}`,
    );
  }
  for (const warning of warnings) log(options.logger, 'warn', warning);
  return { secret, warnings };
}

/** A short reason for a failed file operation, with the fix when the code says it. */
export function fsReason(error: unknown): string {
  if (error instanceof RefusedFileError) return error.problem;
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  switch (code) {
    case 'ENOENT':
      return 'no such file (check the path)';
    case 'EACCES':
    case 'EPERM':
      return `permission denied for user ${currentUser()} (check the file's owner and mode)`;
    case 'EISDIR':
      return 'it is a directory, not a file';
    case 'ENOTDIR':
      return 'a part of the path is not a directory';
    default:
      return code ?? (error instanceof Error ? error.message : String(error));
  }
}

function currentUser(): string {
  return typeof process.getuid === 'function' ? `uid ${process.getuid()}` : 'this user';
}
