/** Every failure this package reports, as its `code`: stable, for programs; the messages are for people. */
export const FIRMWARE_ERROR_CODES = [
  // download: refused before any request
  'FW_URL_INVALID',
  'FW_HTTP_NOT_ALLOWED',
  'FW_CHECKSUM_INVALID',
  'FW_SIZE_INVALID',
  'FW_RATE_INVALID',
  'FW_PROXY_INVALID',
  // download: what the host or the network did
  'FW_URL_EXPIRED',
  'FW_HTTP_STATUS',
  'FW_TOO_MANY_REDIRECTS',
  'FW_NETWORK',
  'FW_STALLED',
  'FW_TOO_SLOW',
  'FW_SIZE_MISMATCH',
  'FW_TOO_LARGE',
  'FW_CHECKSUM_MISMATCH',
  'FW_CONTENT_ENCODING',
  'FW_PROXY',
  'FW_PROXY_REFUSED',
  'FW_SERVER_IDENTITY',
  // download: this device
  'FW_NO_SPACE',
  'FW_WRITE_FAILED',
  'FW_ABORTED',
  // fwup
  'FW_FWUP_NOT_FOUND',
  'FW_FWUP_VERIFY_FAILED',
  'FW_FWUP_FAILED',
  // metadata
  'FW_METADATA_UNAVAILABLE',
  'FW_METADATA_INCOMPLETE',
] as const;

export type FirmwareErrorCode = (typeof FIRMWARE_ERROR_CODES)[number];

export interface FirmwareErrorOptions {
  readonly cause?: unknown;
  /** HTTP status of the response that failed the attempt, if any. */
  readonly statusCode?: number;
  /** How long the host asked to wait before trying again (its `Retry-After`), in milliseconds. */
  readonly retryAfterMs?: number;
  /** How many download attempts were made before giving up. */
  readonly attempts?: number;
  /** fwup's own error text (from its `ER` packet or stderr), for the status reported to the server. */
  readonly fwupMessage?: string;
  /** fwup's exit code, when it exited. */
  readonly exitCode?: number;
}

export class FirmwareError extends Error {
  override readonly name = 'FirmwareError';
  readonly code: FirmwareErrorCode;
  readonly statusCode: number | undefined;
  readonly retryAfterMs: number | undefined;
  readonly attempts: number | undefined;
  readonly fwupMessage: string | undefined;
  readonly exitCode: number | undefined;

  constructor(code: FirmwareErrorCode, message: string, options: FirmwareErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.statusCode = options.statusCode;
    this.retryAfterMs = options.retryAfterMs;
    this.attempts = options.attempts;
    this.fwupMessage = options.fwupMessage;
    this.exitCode = options.exitCode;
  }
}
