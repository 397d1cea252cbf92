import {
  type FirmwareMetadata,
  interpretEnvironment,
  REQUIRED_FIRMWARE_KEYS,
  readFirmwareMetadata,
} from '@nerves-hub-link/firmware';
import type { Config } from '../config/config.js';
import { CONFIG_DEFAULTS } from '../config/defaults.js';
import { childEnvironment } from '../link/child-environment.js';

/** The running firmware, as the join reports it and the update steps need it. */
export interface FirmwareState {
  /** Join metadata of the running firmware: nerves_fw_* keys without the slot prefix. */
  readonly firmware: Readonly<Record<string, string>>;
  readonly firmwareValidated: boolean | undefined;
  readonly autoRevertDetected: boolean;
  readonly devpath: string | undefined;
}

/**
 * Reads the running firmware's metadata as `[metadata]` says: the bootloader environment (`fw_printenv`) or a
 * key=value file, with `[metadata.values]` over it; `[metadata.values]` alone when it holds every required key.
 */
export async function readFirmwareState(config: Config): Promise<FirmwareState> {
  const { command, file, values } = config.metadata;
  let result: FirmwareMetadata;
  if (file === undefined && command === undefined && REQUIRED_FIRMWARE_KEYS.every((key) => values[key])) {
    // Everything is in the config: no bootloader environment to read (e.g. a device without U-Boot).
    result = interpretEnvironment({}, values, '[metadata.values]');
  } else {
    result = await readFirmwareMetadata({
      ...(file !== undefined ? { file } : { command: command ?? [...CONFIG_DEFAULTS.metadataCommand] }),
      values,
      env: childEnvironment(process.env),
    });
  }
  return {
    firmware: result.params,
    firmwareValidated: result.firmwareValidated,
    autoRevertDetected: result.autoRevertDetected,
    devpath: result.devpath,
  };
}
