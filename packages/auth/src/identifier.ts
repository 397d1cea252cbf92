/** The device identifier (NervesHub's serial number): from a command, a literal, or the certificate's CN. */
import { spawn } from 'node:child_process';
import type { X509Certificate } from 'node:crypto';
import {
  DEFAULT_IDENTIFIER_TIMEOUT_MS,
  IDENTIFIER_KILL_GRACE_MS,
  IDENTIFIER_MAX_LENGTH,
  IDENTIFIER_MAX_OUTPUT_BYTES,
  STDERR_TAIL_CHARS,
} from './constants.js';
import { AuthError, IdentifierCommandError, invalidArgument } from './errors.js';
import { commonNameOf, parseCertificates, readPemFile } from './pem.js';

export type IdentifierSource =
  /** argv run without a shell (`["cat", "/etc/serial"]`), or one string run by `/bin/sh -c` when `shell` is true. */
  | { readonly command: readonly string[] | string; readonly shell?: boolean; readonly timeoutMs?: number }
  | { readonly value: string }
  /** The CN of the device certificate, as NervesHub reads it for a new certificate. */
  | { readonly certFile: string };

export interface ResolveIdentifierOptions {
  readonly signal?: AbortSignal;
}

/**
 * Resolves the identifier. A command's stdout is trimmed; empty output, a non-zero exit, a timeout, more than
 * one line, or a control character is an AuthError (AUTH_IDENTIFIER_*) that says what to fix.
 */
export async function resolveIdentifier(
  source: IdentifierSource,
  options: ResolveIdentifierOptions = {},
): Promise<string> {
  if ('value' in source) return checkIdentifier(source.value, 'the configured serial');
  if ('certFile' in source) return identifierFromCertificate(source.certFile);
  if ('command' in source) return identifierFromCommand(source, options.signal);
  throw invalidArgument('source', '{ command }, { value } or { certFile }', source);
}

async function identifierFromCertificate(certFile: string): Promise<string> {
  const pem = await readPemFile(certFile, 'certFile', 'the device certificate');
  const leaf: X509Certificate = parseCertificates(pem, certFile, 'certFile')[0]!;
  const cn = commonNameOf(leaf);
  if (!cn) {
    throw new AuthError(
      'AUTH_IDENTIFIER_NO_CN',
      `the device certificate ${certFile} has no common name (CN): set identity.serial or identity.serial_command`,
    );
  }
  return checkIdentifier(cn, `the CN of ${certFile}`);
}

function identifierFromCommand(
  source: {
    readonly command: readonly string[] | string;
    readonly shell?: boolean;
    readonly timeoutMs?: number;
  },
  signal: AbortSignal | undefined,
): Promise<string> {
  const { file, args, label } = argv(source);
  const timeoutMs = source.timeoutMs ?? DEFAULT_IDENTIFIER_TIMEOUT_MS;
  return new Promise((resolve, reject) => {
    // Its own process group, so that stopping it also stops what a shell script started (which would keep
    // stdout open). execFile drops `detached`, hence spawn.
    const child = spawn(file, args, { detached: true, stdio: ['ignore', 'pipe', 'pipe'], windowsHide: true });
    let stdout = '';
    let stderr = '';
    let outcome: AuthError | undefined;
    let killTimer: NodeJS.Timeout | undefined;
    const stop = (error: AuthError) => {
      outcome ??= error;
      killGroup(child.pid, 'SIGTERM');
      killTimer ??= setTimeout(() => killGroup(child.pid, 'SIGKILL'), IDENTIFIER_KILL_GRACE_MS);
    };
    const timer = setTimeout(
      () =>
        stop(
          new IdentifierCommandError(
            'AUTH_IDENTIFIER_TIMEOUT',
            `${label} did not finish within ${timeoutMs} ms`,
            {},
          ),
        ),
      timeoutMs,
    );
    const onAbort = () =>
      stop(new IdentifierCommandError('AUTH_IDENTIFIER_ABORTED', `${label} was cancelled`, {}));
    if (signal?.aborted) onAbort();
    signal?.addEventListener('abort', onAbort, { once: true });

    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk;
      if (stdout.length > IDENTIFIER_MAX_OUTPUT_BYTES) {
        stop(
          new AuthError(
            'AUTH_IDENTIFIER_INVALID',
            `${label} printed more than ${IDENTIFIER_MAX_OUTPUT_BYTES} bytes`,
          ),
        );
      }
    });
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      stderr = (stderr + chunk).slice(-STDERR_TAIL_CHARS * 4);
    });
    child.on('error', (error: NodeJS.ErrnoException) => {
      outcome ??=
        error.code === 'ENOENT'
          ? new IdentifierCommandError('AUTH_IDENTIFIER_COMMAND_NOT_FOUND', `${label}: ${file} not found`, {
              cause: error,
            })
          : new IdentifierCommandError(
              'AUTH_IDENTIFIER_COMMAND_FAILED',
              `${label} could not start: ${error.message}`,
              {
                cause: error,
              },
            );
    });
    child.on('close', (exitCode, exitSignal) => {
      clearTimeout(timer);
      clearTimeout(killTimer);
      signal?.removeEventListener('abort', onAbort);
      const tail = stderr.trim().slice(-STDERR_TAIL_CHARS);
      if (outcome) return reject(outcome);
      if (exitCode !== 0) {
        const how = exitCode !== null ? `exited with ${exitCode}` : `was killed by ${exitSignal}`;
        return reject(
          new IdentifierCommandError(
            'AUTH_IDENTIFIER_COMMAND_FAILED',
            `${label} ${how}${tail ? `: ${tail}` : ''}`,
            {
              exitCode,
              signal: exitSignal,
              stderr: tail,
            },
          ),
        );
      }
      try {
        resolve(checkIdentifier(stdout.trim(), label));
      } catch (error) {
        reject(error);
      }
    });
  });
}

function killGroup(pid: number | undefined, signal: NodeJS.Signals): void {
  if (pid === undefined) return;
  try {
    process.kill(-pid, signal);
  } catch {
    // Already gone.
  }
}

function argv(source: { readonly command: readonly string[] | string; readonly shell?: boolean }): {
  file: string;
  args: string[];
  label: string;
} {
  const { command } = source;
  if (typeof command === 'string') {
    if (command.trim() === '') throw invalidArgument('command', 'a non-empty command', command);
    if (source.shell) return { file: '/bin/sh', args: ['-c', command], label: `serial command "${command}"` };
    const parts = command.trim().split(/\s+/);
    return { file: parts[0]!, args: parts.slice(1), label: `serial command "${command}"` };
  }
  if (!Array.isArray(command) || command.length === 0 || command.some((part) => typeof part !== 'string')) {
    throw invalidArgument('command', 'a non-empty array of strings', command);
  }
  return { file: command[0]!, args: command.slice(1), label: `serial command "${command.join(' ')}"` };
}

function checkIdentifier(value: string, origin: string): string {
  if (typeof value !== 'string' || value.trim() === '') {
    throw new AuthError('AUTH_IDENTIFIER_EMPTY', `${origin} gave an empty identifier`);
  }
  const trimmed = value.trim();
  if (/[\r\n]/.test(trimmed)) {
    throw new AuthError(
      'AUTH_IDENTIFIER_INVALID',
      `${origin} printed more than one line; it must print only the identifier`,
    );
  }
  if (/[\u0000-\u001f\u007f]/.test(trimmed) || trimmed.length > IDENTIFIER_MAX_LENGTH) {
    throw new AuthError(
      'AUTH_IDENTIFIER_INVALID',
      `${origin} is not a usable identifier (control characters or more than ${IDENTIFIER_MAX_LENGTH} characters)`,
    );
  }
  return trimmed;
}
