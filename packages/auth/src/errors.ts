/** Every code a caller may branch on. Match `err.code`, not the message or the class. */
export type AuthErrorCode =
  | 'AUTH_INVALID_ARGUMENT'
  // files and certificates
  | 'AUTH_FILE_UNREADABLE'
  | 'AUTH_CERT_INVALID'
  | 'AUTH_CA_INVALID'
  | 'AUTH_KEY_INVALID'
  | 'AUTH_KEY_MISMATCH'
  // OpenSSL engine keys
  | 'AUTH_ENGINE_NOT_FOUND'
  | 'AUTH_ENGINE_INIT_FAILED'
  | 'AUTH_PIN_INCORRECT'
  | 'AUTH_PIN_REQUIRED'
  | 'AUTH_PIN_LOCKED'
  | 'AUTH_KEY_NOT_FOUND'
  | 'AUTH_TOKEN_PUBLIC_KEY_MISSING'
  | 'AUTH_ENGINE_KEY_FAILED'
  // TLS connection failures (describeTlsError)
  | 'AUTH_SERVER_UNTRUSTED'
  | 'AUTH_SERVER_CERT_EXPIRED'
  | 'AUTH_SERVER_CERT_NOT_YET_VALID'
  | 'AUTH_SERVER_NAME_MISMATCH'
  | 'AUTH_CLIENT_CERT_REJECTED'
  | 'AUTH_CLIENT_CERT_REQUIRED'
  | 'AUTH_TLS_VERSION_MISMATCH'
  | 'AUTH_TLS_HANDSHAKE_FAILED'
  | 'AUTH_SERVER_PIN_MISMATCH'
  // shared secret
  | 'AUTH_SECRET_UNREADABLE'
  | 'AUTH_SECRET_EMPTY'
  // device identifier
  | 'AUTH_IDENTIFIER_COMMAND_NOT_FOUND'
  | 'AUTH_IDENTIFIER_COMMAND_FAILED'
  | 'AUTH_IDENTIFIER_TIMEOUT'
  | 'AUTH_IDENTIFIER_ABORTED'
  | 'AUTH_IDENTIFIER_EMPTY'
  | 'AUTH_IDENTIFIER_INVALID'
  | 'AUTH_IDENTIFIER_NO_CN';

/** Base class of every error this package raises. Messages never hold secrets, PINs or signatures. */
export class AuthError extends Error {
  override name = 'AuthError';
  readonly code: AuthErrorCode;

  constructor(code: AuthErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
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
    details: { tlsCode?: string | undefined; alert?: string | undefined; cause?: unknown },
  ) {
    super(code, message, { cause: details.cause });
    this.tlsCode = details.tlsCode;
    this.alert = details.alert;
  }
}

/** The identifier command did not produce an identifier. */
export class IdentifierCommandError extends AuthError {
  override name = 'IdentifierCommandError';
  readonly exitCode: number | null;
  readonly signal: NodeJS.Signals | null;
  /** Last characters of the command's stderr. */
  readonly stderr: string;

  constructor(
    code: AuthErrorCode,
    message: string,
    details: { exitCode?: number | null; signal?: NodeJS.Signals | null; stderr?: string; cause?: unknown },
  ) {
    super(code, message, { cause: details.cause });
    this.exitCode = details.exitCode ?? null;
    this.signal = details.signal ?? null;
    this.stderr = details.stderr ?? '';
  }
}

/** True for any error of this package, even one made by another copy of it. */
export function isAuthError(error: unknown): error is AuthError {
  if (!(error instanceof Error)) return false;
  const code: unknown = (error as Error & { code?: unknown }).code;
  return typeof code === 'string' && code.startsWith('AUTH_');
}

export function describeValue(value: unknown): string {
  if (value === null) return 'null';
  if (value === undefined) return 'undefined';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'string') return value === '' ? 'an empty string' : 'a string';
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return `a value of type ${typeof value}`;
}

/**
 * An invalid-argument error: "option: expected …, got …". The value itself is never echoed (it may be a
 * secret); only its kind is.
 */
export function invalidArgument(name: string, expected: string, value: unknown): AuthError {
  return new AuthError('AUTH_INVALID_ARGUMENT', `${name}: expected ${expected}, got ${describeValue(value)}`);
}
