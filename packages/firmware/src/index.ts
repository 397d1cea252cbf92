export * from './download/index.js';
export { FirmwareError, type FirmwareErrorCode, type FirmwareErrorOptions } from './errors.js';
export * from './fwup/index.js';
export * from './metadata/index.js';
