/**
 * A device's join as NervesHub records it (nerves_hub_web lib/nerves_hub/device_link.ex `device_join` lines 44-68,
 * `join` lines 374-390): sanitize_device_api_version, update_firmware_metadata (with the firmware history),
 * maybe_clear_inflight_update, refresh_deployment_group. A join whose update_firmware_metadata fails stops there:
 * an error is refused ("could not connect"), a raise crashes it, nothing is written.
 */
import { castBoolean, isMap, type Params } from './casts.js';
import { refreshDeploymentGroup } from './deployments.js';
import { updateFirmwareMetadata as devicesUpdateFirmwareMetadata } from './device-firmwares.js';
import { metadataFromDevice } from './firmware-metadata.js';
import { audit, changed, deviceState } from './hub.js';
import { clearInflightUpdate } from './inflight.js';
import type { DeviceState, FirmwareMetadata, Hub, JoinOutcome, ValidationStatus } from './types.js';
import { parseVersion } from './version.js';

/**
 * The values that raise before any write are found first and change nothing. A version that is not SemVer raises
 * later, in refresh_deployment_group, after the metadata and the in-flight record have been written: those writes
 * stay, as they do on the real server (join/2 is not one transaction).
 */
export function deviceJoin(hub: Hub, identifier: string, params: unknown, now: number): JoinOutcome {
  const problem = joinCrash(params);
  if (problem) return { status: 'crashed', reason: problem };
  const join = params as Params;
  const meta = (join.meta ?? {}) as Params;
  const device = deviceState(hub, identifier);
  // firmware_auto_revert_detected? (lines 681-685) defaults to false; Ecto casts it where it is written. A null
  // is stored as null there, which every page reads as false: false here.
  const autoRevert = castBoolean(meta.firmware_auto_revert_detected ?? false);
  const written = updateFirmwareMetadata(hub, device, join, fetchValidationStatus(meta), autoRevert, now);
  if (written.status !== 'ok') return written;
  maybeClearInflightUpdate(hub, device, join, now);
  const crashed = refreshDeploymentGroup(hub, device, now);
  changed(hub, device);
  return crashed ? { status: 'crashed', reason: crashed } : { status: 'ok' };
}

/**
 * The device_api_version a join leaves in the session: the reported one when Version.parse accepts it, else
 * "1.0.0" (sanitize_device_api_version, lines 297-312).
 */
export function sanitizedApiVersion(params: Params): string {
  const version = params.device_api_version;
  return typeof version === 'string' && parseVersion(version) ? version : '1.0.0';
}

/** What raises in device_join before any write: sanitize_device_api_version, metadata_from_device, meta. */
function joinCrash(params: unknown): string | undefined {
  // sanitize_device_api_version: Map.put on a non-map.
  if (!isMap(params)) return 'join params are not a map';
  // Version.parse/1 only takes a string (null included in the failure).
  if ('device_api_version' in params && typeof params.device_api_version !== 'string') {
    return 'device_api_version is not a string';
  }
  // Firmwares.metadata_from_device looks an unusable report up by uuid; a non-string uuid fails the query cast.
  const uuid = params.nerves_fw_uuid;
  if (uuid !== undefined && uuid !== null && typeof uuid !== 'string')
    return 'nerves_fw_uuid is not a string';
  // fetch_validation_status: Map.get on a non-map meta, then a case without a clause for other values.
  if ('meta' in params && !isMap(params.meta)) return 'meta is not a map';
  const validated = (params.meta as Params | undefined)?.firmware_validated;
  if (validated !== undefined && validated !== null && typeof validated !== 'boolean') {
    return 'meta.firmware_validated is not a boolean';
  }
  return undefined;
}

/** DeviceLink.fetch_validation_status (lines 670-679). */
function fetchValidationStatus(meta: Params): ValidationStatus {
  if (meta.firmware_validated === true) return 'validated';
  if (meta.firmware_validated === false) return 'not_validated';
  return 'unknown';
}

/**
 * DeviceLink.update_firmware_metadata (lines 644-668): the same uuid as on record (same_firmware?) goes to
 * Devices.update_firmware_metadata with no metadata, which only updates the validation status and the auto-revert
 * flag (of the device and of its current history row); anything else (a new firmware, or no usable metadata while
 * some is on record) goes to it with what was reported and, when that worked, through firmware_update_successful.
 */
function updateFirmwareMetadata(
  hub: Hub,
  device: DeviceState,
  params: Params,
  validation: ValidationStatus,
  autoRevert: boolean | undefined,
  now: number,
): JoinOutcome {
  const previous = device.firmware;
  const reported = metadataFromDevice(hub, params);
  if (previous && reported && previous.uuid === reported.uuid) {
    return devicesUpdateFirmwareMetadata(hub, device, null, validation, autoRevert, now);
  }
  const written = devicesUpdateFirmwareMetadata(hub, device, reported, validation, autoRevert, now);
  if (written.status === 'ok') firmwareUpdateSuccessful(hub, device, previous, now);
  return written;
}

/**
 * FirmwareUpdates.firmware_update_successful (lib/nerves_hub/firmware_updates.ex lines 18-58): nothing for a
 * device with no metadata; otherwise an audit line, the in-flight record deleted (a deployment one counts an
 * updated device and tells its orchestrator), and Device.clear_updates_information_changeset: attempts and the
 * block cleared.
 */
export function firmwareUpdateSuccessful(
  hub: Hub,
  device: DeviceState,
  previous: FirmwareMetadata | null,
  now: number,
): void {
  if (!device.firmware) return;
  audit(hub, device, {
    at: now,
    event: 'firmware-updated',
    from: previous?.uuid ?? null,
    to: device.firmware.uuid,
  });
  const record = device.inflightUpdate;
  if (record) {
    const group = record.deploymentId === null ? undefined : hub.deployments.get(record.deploymentId);
    if (group) {
      group.currentUpdatedDevices += 1;
      if (device.deploymentId !== null) hub.listener.orchestratorEvent(device.deploymentId, 'device-updated');
    }
    device.inflightUpdate = null;
  }
  device.updateAttempts = [];
  device.updatesBlockedUntil = null;
}

/** DeviceLink.maybe_clear_inflight_update (lines 623-629): only a non-empty string uuid keeps the record. */
function maybeClearInflightUpdate(hub: Hub, device: DeviceState, params: Params, now: number): void {
  const downloading = params.currently_downloading_uuid;
  if (typeof downloading === 'string' && downloading.length > 0) return;
  clearInflightUpdate(hub, device, 'joined without currently_downloading_uuid', now);
}
