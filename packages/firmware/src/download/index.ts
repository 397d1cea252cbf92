export {
  type DownloadConnection,
  type DownloadFirmwareOptions,
  type DownloadLogger,
  type DownloadProgress,
  type DownloadResult,
  downloadFirmware,
} from './download.js';
export type { ProxyOption, ProxyRoute } from './proxy.js';
export { MIN_RATE_BYTES_PER_SECOND } from './rate-limit.js';
export type { RetryOptions } from './retry-policy.js';
