export { type FwupFrame, FwupFrameParser } from './frame-parser.js';
export {
  type ApplyFirmwareOptions,
  applyFirmware,
  fwupVersion,
  type VerifyFirmwareOptions,
  verifyFirmware,
} from './fwup.js';
export { type FwupRunOptions, type FwupRunResult, failureText, runFwup } from './run-fwup.js';
