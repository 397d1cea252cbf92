import { CONFIG_DEFAULTS } from '../config/defaults.js';

export interface JoinState {
  /** The running firmware's metadata, active-slot prefix already removed (nerves_fw_uuid, …). */
  readonly firmware: Readonly<Record<string, string>>;
  readonly fwupVersion: string;
  readonly currentlyDownloadingUuid: string | null;
  /** undefined when the validation state is unknown: then it is left out (the server counts that as validated). */
  readonly firmwareValidated: boolean | undefined;
  readonly autoRevertDetected: boolean;
  /** Ask the server for its fwup public keys when none are configured. */
  readonly requestFwupPublicKeys: boolean;
}

/**
 * The `phx_join` payload of topic `device` (PROTOCOL.md §4.2): built afresh for every join, because the
 * in-flight uuid and the validation state change while the daemon runs. Types matter here: a
 * non-string `device_api_version` or a non-boolean `firmware_validated` crashes the server's join.
 */
export function buildJoinParams(state: JoinState): Record<string, unknown> {
  const meta: Record<string, boolean> = { firmware_auto_revert_detected: state.autoRevertDetected };
  if (state.firmwareValidated !== undefined) meta.firmware_validated = state.firmwareValidated;
  return {
    ...state.firmware,
    fwup_version: state.fwupVersion,
    device_api_version: CONFIG_DEFAULTS.deviceApiVersion,
    currently_downloading_uuid: state.currentlyDownloadingUuid,
    meta,
    ...(state.requestFwupPublicKeys ? { fwup_public_keys: 'on_connect' } : {}),
  };
}
