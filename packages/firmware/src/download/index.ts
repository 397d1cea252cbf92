export {
  type DownloadConnection,
  type DownloadFirmwareOptions,
  type DownloadLogger,
  type DownloadProgress,
  type DownloadResult,
  downloadFirmware,
} from './download.js';
export { redactUrl } from './redact-url.js';
export { isRetryable, parseRetryAfter, type RetryOptions, retryDelayMs } from './retry-policy.js';
