export {
  type FirmwareMetadata,
  interpretEnvironment,
  parseEnvironment,
  REQUIRED_FIRMWARE_KEYS,
  type ReadFirmwareMetadataOptions,
  readFirmwareMetadata,
} from './firmware-metadata.js';
export {
  CommandError,
  type CommandFailure,
  formatSeconds,
  type GroupedCommandOptions,
  type GroupedCommandResult,
  KILL_GRACE_MS,
  runGroupedCommand,
} from './grouped-command.js';
