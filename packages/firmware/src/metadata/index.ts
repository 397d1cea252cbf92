export {
  type FirmwareMetadata,
  interpretEnvironment,
  parseEnvironment,
  REQUIRED_FIRMWARE_KEYS,
  type ReadFirmwareMetadataOptions,
  readFirmwareMetadata,
} from './firmware-metadata.js';
