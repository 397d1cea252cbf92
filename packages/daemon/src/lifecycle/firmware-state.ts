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
  /** With `autoRevertDetected`: the firmware the bootloader went back from (the other slot's). */
  readonly revertedFirmware?: { readonly uuid: string; readonly version?: string };
  /** What the environment says of validation, for messages (`upgrade_available=1, b.nerves_fw_validated=0`). */
  readonly validationDetail: string;
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
  const other = result.activeSlot === 'a' ? 'b' : 'a';
  const revertedUuid = result.env[`${other}.nerves_fw_uuid`];
  const revertedVersion = result.env[`${other}.nerves_fw_version`];
  return {
    firmware: result.params,
    firmwareValidated: result.firmwareValidated,
    autoRevertDetected: result.autoRevertDetected,
    ...(result.autoRevertDetected && revertedUuid
      ? { revertedFirmware: { uuid: revertedUuid, ...(revertedVersion ? { version: revertedVersion } : {}) } }
      : {}),
    validationDetail: validationDetail(result.env, result.activeSlot),
    devpath: result.devpath,
  };
}

/** The keys the validation state is read from, as they are (see the firmware package's metadata reader). */
function validationDetail(env: Readonly<Record<string, string>>, slot: string): string {
  const keys = ['upgrade_available', `${slot}.nerves_fw_validated`, 'nerves_fw_validated'];
  const found = keys.filter((key) => env[key] !== undefined).map((key) => `${key}=${env[key]}`);
  return found.length > 0 ? found.join(', ') : `none of ${keys.join(', ')} is set`;
}
