export {
  type ApplyFirmwareOptions,
  applyFirmware,
  fwupVersion,
  type VerifyFirmwareOptions,
  verifyFirmware,
} from './fwup.js';
