/** Every error this package raises: one base class, a closed union of codes, the input each is about. */
import { describeValue } from '@nerves-hub-link/message-text';
import type { PresentedCertificate } from './server-pins.js';

/** Every code a caller may branch on. Match `err.code`, not the message or the class. */
export const AUTH_ERROR_CODES = [
  'AUTH_INVALID_ARGUMENT',
  // files and certificates
  'AUTH_FILE_UNREADABLE',
  'AUTH_CERT_INVALID',
  'AUTH_CA_INVALID',
  'AUTH_KEY_INVALID',
  'AUTH_KEY_MISMATCH',
  // OpenSSL engine keys
  'AUTH_ENGINE_NOT_FOUND',
  'AUTH_PIN_INCORRECT',
  'AUTH_PIN_REQUIRED',
  'AUTH_PIN_LOCKED',
  'AUTH_KEY_NOT_FOUND',
  'AUTH_TOKEN_PUBLIC_KEY_MISSING',
  'AUTH_ENGINE_KEY_FAILED',
  // TLS connection failures (describeTlsError)
  'AUTH_SERVER_UNTRUSTED',
  'AUTH_SERVER_CERT_EXPIRED',
  'AUTH_SERVER_CERT_NOT_YET_VALID',
  'AUTH_SERVER_NAME_MISMATCH',
  'AUTH_CLIENT_CERT_REJECTED',
  'AUTH_CLIENT_CERT_REQUIRED',
  'AUTH_TLS_VERSION_MISMATCH',
  'AUTH_TLS_HANDSHAKE_FAILED',
  'AUTH_SERVER_PIN_MISMATCH',
  // shared secret
  'AUTH_SECRET_UNREADABLE',
  'AUTH_SECRET_EMPTY',
  // device identifier
  'AUTH_IDENTIFIER_COMMAND_NOT_FOUND',
  'AUTH_IDENTIFIER_COMMAND_FAILED',
  'AUTH_IDENTIFIER_TIMEOUT',
  'AUTH_IDENTIFIER_ABORTED',
  'AUTH_IDENTIFIER_EMPTY',
  'AUTH_IDENTIFIER_INVALID',
  'AUTH_IDENTIFIER_NO_CN',
] as const;

export type AuthErrorCode = (typeof AUTH_ERROR_CODES)[number];

/**
 * An input of this package's API, by the name the API gives it. An error about one names it in `option`, so a
 * program that took the value from its config can name its own key without rewriting the message.
 */
export type AuthOption =
  // createTlsOptions
  | 'certFile'
  | 'keyFile'
  | 'keyEngine'
  | 'keyId'
  | 'caFile'
  | 'tlsVersion'
  // signSharedSecretHeaders
  | 'key'
  | 'secret'
  | 'identifier'
  | 'nowMs'
  | 'signedAt'
  | 'alg'
  // readSecretFile
  | 'path'
  // resolveIdentifier (and its `certFile`)
  | 'source'
  | 'command'
  | 'timeoutMs'
  | 'value'
  // ServerPinCheck, parsePins
  | 'pins';

export interface AuthErrorOptions {
  readonly cause?: unknown;
  readonly option?: AuthOption;
}

/** Base class of every error this package raises. Messages never hold secrets, PINs or signatures. */
export class AuthError extends Error {
  override name = 'AuthError';
  readonly code: AuthErrorCode;
  /** The input the error is about, when it is about one: `certFile`, `keyId`, `command`, …. */
  readonly option: AuthOption | undefined;

  constructor(code: AuthErrorCode, message: string, options: AuthErrorOptions = {}) {
    super(message, 'cause' in options ? { cause: options.cause } : undefined);
    this.code = code;
    this.option = options.option;
  }
}

/** A TLS handshake failure explained; `alert` is the TLS alert name when the peer sent one (`unknown_ca`). */
export class TlsConnectionError extends AuthError {
  override name = 'TlsConnectionError';
  /** The Node/OpenSSL code that was mapped, e.g. `UNABLE_TO_VERIFY_LEAF_SIGNATURE`. */
  readonly tlsCode: string | undefined;
  readonly alert: string | undefined;

  constructor(
    code: AuthErrorCode,
    message: string,
    details: {
      tlsCode?: string | undefined;
      alert?: string | undefined;
      cause?: unknown;
      option?: AuthOption;
    },
  ) {
    super(code, message, { cause: details.cause, ...(details.option ? { option: details.option } : {}) });
    this.tlsCode = details.tlsCode;
    this.alert = details.alert;
  }
}

/** The identifier command did not produce an identifier (`option` is `command`). */
export class IdentifierCommandError extends AuthError {
  override name = 'IdentifierCommandError';
  readonly exitCode: number | null;
  readonly signal: NodeJS.Signals | null;
  /** The end of the command's stderr, escaped and bounded. */
  readonly stderr: string;

  constructor(
    code: AuthErrorCode,
    message: string,
    details: { exitCode?: number | null; signal?: NodeJS.Signals | null; stderr?: string; cause?: unknown },
  ) {
    super(code, message, { cause: details.cause, option: 'command' });
    this.exitCode = details.exitCode ?? null;
    this.signal = details.signal ?? null;
    this.stderr = details.stderr ?? '';
  }
}

/** A server whose certificate chain matched none of the pins. The message lists what it presented. */
export class ServerPinMismatchError extends AuthError {
  override name = 'ServerPinMismatchError';
  readonly host: string;
  readonly presented: readonly PresentedCertificate[];
  readonly expected: readonly string[];

  constructor(
    host: string,
    presented: readonly PresentedCertificate[],
    expected: readonly string[],
    setting: string,
  ) {
    const shown = presented.map((certificate) => `${certificate.pin} (${certificate.subject})`).join(', ');
    super(
      'AUTH_SERVER_PIN_MISMATCH',
      `certificate pin mismatch: the chain of ${host} matches none of the ${expected.length} pin(s) in ${setting}; it presented ${shown || 'no certificate'}`,
      { option: 'pins' },
    );
    this.host = host;
    this.presented = presented;
    this.expected = expected;
  }
}

/**
 * A file named in a configuration that this package does not read: `problem` says why ("it is not a regular
 * file (it is a FIFO)"). The functions that read files wrap it in their own error, with the option named.
 */
export class RefusedFileError extends AuthError {
  override name = 'RefusedFileError';
  readonly path: string;
  readonly problem: string;

  constructor(path: string, problem: string) {
    super('AUTH_FILE_UNREADABLE', `${path}: ${problem}`);
    this.path = path;
    this.problem = problem;
  }
}

/** True for any error of this package, even one made by another copy of it. */
export function isAuthError(error: unknown): error is AuthError {
  if (!(error instanceof Error)) return false;
  const code: unknown = (error as Error & { code?: unknown }).code;
  return typeof code === 'string' && (AUTH_ERROR_CODES as readonly string[]).includes(code);
}

/**
 * An invalid-argument error: "option: expected …, got …", the value described by the repository's one rule
 * (echoed, escaped and short; only its kind when it may be a secret).
 */
export function invalidArgument(
  option: AuthOption,
  expected: string,
  value: unknown,
  { secret = false }: { readonly secret?: boolean } = {},
): AuthError {
  return new AuthError(
    'AUTH_INVALID_ARGUMENT',
    `${option}: expected ${expected}, got ${describeValue(value, { secret })}`,
    { option },
  );
}
