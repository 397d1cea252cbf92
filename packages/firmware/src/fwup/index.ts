export {
  type ApplyFirmwareOptions,
  applyFirmware,
  type FwupVersionOptions,
  fwupVersion,
  type VerifyFirmwareOptions,
  verifyFirmware,
} from './fwup.js';
