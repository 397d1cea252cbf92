/** The device identifier (NervesHub's serial number): from a command, a literal, or the certificate's CN. */
import type { X509Certificate } from 'node:crypto';
import { shownTail } from '@nerves-hub-link/message-text';
import { type ProcessGroupError, runProcessGroup } from '@nerves-hub-link/process-group';
import {
  DEFAULT_IDENTIFIER_TIMEOUT_MS,
  IDENTIFIER_MAX_LENGTH,
  IDENTIFIER_MAX_OUTPUT_BYTES,
} from './constants.js';
import { AuthError, type AuthOption, IdentifierCommandError, invalidArgument } from './errors.js';
import { commonNameOf, parseCertificates, readPemFile } from './pem.js';

export type IdentifierSource =
  /**
   * argv run without a shell (`["cat", "/etc/serial"]`), or one string run by `/bin/sh -c` when `shell` is true;
   * `env` is its whole environment (default `process.env`).
   */
  | {
      readonly command: readonly string[] | string;
      readonly shell?: boolean;
      readonly timeoutMs?: number;
      readonly env?: NodeJS.ProcessEnv;
    }
  | { readonly value: string }
  /** The CN of the device certificate, as NervesHub reads it for a new certificate. */
  | { readonly certFile: string };

/** The longest timer Node keeps (about 24.8 days). */
const MAX_TIMEOUT_MS = 2_147_483_647;

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
  if ('value' in source) return checkIdentifier(source.value, 'the configured serial', 'value');
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
      { option: 'certFile' },
    );
  }
  return checkIdentifier(cn, `the CN of ${certFile}`, 'certFile');
}

async function identifierFromCommand(
  source: {
    readonly command: readonly string[] | string;
    readonly shell?: boolean;
    readonly timeoutMs?: number;
    readonly env?: NodeJS.ProcessEnv;
  },
  signal: AbortSignal | undefined,
): Promise<string> {
  const { file, args, label } = argv(source);
  const timeoutMs = source.timeoutMs ?? DEFAULT_IDENTIFIER_TIMEOUT_MS;
  if (!Number.isInteger(timeoutMs) || timeoutMs < 1 || timeoutMs > MAX_TIMEOUT_MS) {
    throw invalidArgument('timeoutMs', `a whole number of ms from 1 to ${MAX_TIMEOUT_MS}`, source.timeoutMs);
  }
  let stdout: string;
  try {
    // Its own process group, so that stopping it also stops what a shell script started (which would keep
    // stdout open).
    const result = await runProcessGroup([file, ...args], {
      timeoutMs,
      maxOutputBytes: IDENTIFIER_MAX_OUTPUT_BYTES,
      failOnExcessOutput: true,
      ...(source.env ? { env: source.env } : {}),
      ...(signal ? { signal } : {}),
    });
    stdout = result.stdout.text;
  } catch (error) {
    throw commandError(error, file, label, timeoutMs);
  }
  return checkIdentifier(stdout.trim(), label, 'command');
}

/** The runner's error as an AUTH_IDENTIFIER_* error that names the command and, when it failed, its stderr. */
function commandError(error: unknown, file: string, label: string, timeoutMs: number): AuthError {
  const { code, result, message } = error as Partial<ProcessGroupError>;
  const cause = { cause: error };
  switch (code) {
    case 'PROC_NOT_FOUND':
      return new IdentifierCommandError(
        'AUTH_IDENTIFIER_COMMAND_NOT_FOUND',
        `${label}: ${file} not found`,
        cause,
      );
    case 'PROC_TIMED_OUT':
      return new IdentifierCommandError(
        'AUTH_IDENTIFIER_TIMEOUT',
        `${label} did not finish within ${timeoutMs} ms`,
        cause,
      );
    case 'PROC_ABORTED':
      return new IdentifierCommandError('AUTH_IDENTIFIER_ABORTED', `${label} was cancelled`, cause);
    case 'PROC_OUTPUT_LIMIT':
      return new AuthError(
        'AUTH_IDENTIFIER_INVALID',
        `${label} printed more than ${IDENTIFIER_MAX_OUTPUT_BYTES} bytes`,
        { ...cause, option: 'command' },
      );
    case 'PROC_EXIT_STATUS':
    case 'PROC_SIGNALLED': {
      const exitCode = result?.exitCode ?? null;
      const exitSignal = result?.signal ?? null;
      const stderr = result?.stderr.text.trim() ?? '';
      const tail = stderr ? shownTail(stderr) : '';
      const how = exitCode !== null ? `exited with ${exitCode}` : `was killed by ${exitSignal}`;
      return new IdentifierCommandError(
        'AUTH_IDENTIFIER_COMMAND_FAILED',
        `${label} ${how}${tail ? `: ${tail}` : ''}`,
        { exitCode, signal: exitSignal, stderr: tail, ...cause },
      );
    }
    default: {
      // PROC_START_FAILED: the system's reason (EACCES, EAGAIN) is that of the spawn error it wraps.
      const why = ((error as { cause?: unknown }).cause as Error | undefined)?.message ?? message;
      return new IdentifierCommandError(
        'AUTH_IDENTIFIER_COMMAND_FAILED',
        `${label} could not start: ${why ?? String(error)}`,
        cause,
      );
    }
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

function checkIdentifier(value: string, origin: string, option: AuthOption): string {
  if (typeof value !== 'string' || value.trim() === '') {
    throw new AuthError('AUTH_IDENTIFIER_EMPTY', `${origin} gave an empty identifier`, { option });
  }
  const trimmed = value.trim();
  if (/[\r\n]/.test(trimmed)) {
    throw new AuthError(
      'AUTH_IDENTIFIER_INVALID',
      `${origin} printed more than one line; it must print only the identifier`,
      { option },
    );
  }
  if (/[\u0000-\u001f\u007f]/.test(trimmed) || trimmed.length > IDENTIFIER_MAX_LENGTH) {
    throw new AuthError(
      'AUTH_IDENTIFIER_INVALID',
      `${origin} is not a usable identifier (control characters or more than ${IDENTIFIER_MAX_LENGTH} characters)`,
      { option },
    );
  }
  return trimmed;
}
