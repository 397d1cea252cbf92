export { Blake2b, blake2b256Hex } from './blake2b.js';
export { describeFirmware } from './catalog.js';
export {
  type FwArchive,
  type FwEntry,
  fwupMetaUuid,
  type MetaConf,
  parseMetaConf,
  readFwArchive,
} from './fw-archive.js';
export { FirmwareHost } from './host.js';
export type {
  FirmwareFault,
  FirmwareFile,
  FirmwareMeta,
  FirmwareRequestRecord,
  FirmwareUrlOptions,
  UpdatePayload,
} from './types.js';
