// What the daemon (or any other caller) uses; the modules behind it are the package's own.
export {
  type DownloadConnection,
  type DownloadFirmwareOptions,
  type DownloadLogger,
  type DownloadProgress,
  type DownloadResult,
  downloadFirmware,
  MIN_RATE_BYTES_PER_SECOND,
  type ProxyOption,
  type ProxyRoute,
  type RetryOptions,
} from './download/index.js';
export { FirmwareError, type FirmwareErrorCode, type FirmwareErrorOptions } from './errors.js';
export {
  type ApplyFirmwareOptions,
  applyFirmware,
  type FwupVersionOptions,
  fwupVersion,
  type VerifyFirmwareOptions,
  verifyFirmware,
} from './fwup/index.js';
export {
  type FirmwareMetadata,
  interpretEnvironment,
  REQUIRED_FIRMWARE_KEYS,
  type ReadFirmwareMetadataOptions,
  readFirmwareMetadata,
} from './metadata/index.js';
