/**
 * A device's firmware history: a device_firmwares row per firmware it reported, with the validation status and
 * the auto-revert flag of its joins (nerves_hub_web lib/nerves_hub/devices/device_firmwares.ex,
 * lib/nerves_hub/devices/device_firmware.ex), written by Devices.update_firmware_metadata/4
 * (lib/nerves_hub/devices.ex lines 433-509) on every join and marked by `firmware_validated`.
 */
import type {
  DeviceFirmware,
  DeviceState,
  FirmwareMetadata,
  Hub,
  JoinOutcome,
  ValidationStatus,
} from './types.js';

const OK: JoinOutcome = { status: 'ok' };
const NOT_A_BOOLEAN = 'firmware_auto_revert_detected is not a boolean';

/**
 * Devices.update_firmware_metadata/4. `metadata` null is the first clause (lines 440-474), taken for a join with
 * the firmware on record or with no usable metadata: the device's current row is updated in place, or written
 * when the device has none yet; a device with no metadata at all gets no row (NervesHub raises a product
 * notification instead, not modelled). Otherwise the second clause (lines 476-509): a new row, always, even for a
 * firmware the history already holds, and it becomes the device's current one.
 *
 * `autoRevert` is the join's value cast as Ecto casts a boolean (`undefined`: it cannot be). Where it is written
 * decides what a bad one does: a changeset refuses it (the join answers "could not connect"), but Repo.update_all
 * raises Ecto.Query.CastError on it (update_reported_information) and add_or_update_reported_firmware matches
 * `{:ok, _}` on its insert, so on a device with metadata on record the first clause raises: the transaction is
 * rolled back and the join crashes.
 */
export function updateFirmwareMetadata(
  hub: Hub,
  device: DeviceState,
  metadata: FirmwareMetadata | null,
  validation: ValidationStatus,
  autoRevert: boolean | undefined,
  now: number,
): JoinOutcome {
  if (metadata === null) {
    const onRecord = device.firmware;
    if (onRecord === null) {
      if (autoRevert === undefined) return { status: 'error', reason: NOT_A_BOOLEAN };
    } else {
      if (autoRevert === undefined) return { status: 'crashed', reason: `${NOT_A_BOOLEAN} (update_all)` };
      const added = addOrUpdateReportedFirmware(hub, device, onRecord, validation, autoRevert, now);
      if (added) device.currentDeviceFirmwareId = added.id;
    }
    device.validation = validation;
    device.autoRevertDetected = autoRevert;
    return OK;
  }
  // DeviceFirmware.create_changeset casts the flag: Repo.insert answers {:error, changeset}.
  if (autoRevert === undefined) return { status: 'error', reason: NOT_A_BOOLEAN };
  // The reported metadata is merged over what is on record; ours always carries every field, so it replaces it.
  const added = addReportedFirmware(hub, device, metadata, validation, autoRevert, now);
  device.firmware = metadata;
  device.validation = validation;
  device.autoRevertDetected = autoRevert;
  device.currentDeviceFirmwareId = added.id;
  return OK;
}

/**
 * DeviceFirmwares.add_or_update_reported_firmware (device_firmwares.ex lines 9-22): a device without a current
 * row gets one (returned, for the caller to make current); otherwise the current row is updated in place.
 */
export function addOrUpdateReportedFirmware(
  hub: Hub,
  device: DeviceState,
  metadata: FirmwareMetadata,
  validation: ValidationStatus,
  autoRevert: boolean,
  now: number,
): DeviceFirmware | undefined {
  if (device.currentDeviceFirmwareId === null) {
    return addReportedFirmware(hub, device, metadata, validation, autoRevert, now);
  }
  updateReportedInformation(device, validation, autoRevert);
  return undefined;
}

/**
 * DeviceFirmwares.add_reported_firmware (device_firmwares.ex lines 26-30) with DeviceFirmware.create_changeset
 * (device_firmware.ex lines 27-45): a new row; `firmware_id` is the product's firmware with the reported uuid,
 * looked up as the row is written, or none ("Firmware unrecognized" on the tab).
 */
export function addReportedFirmware(
  hub: Hub,
  device: DeviceState,
  metadata: FirmwareMetadata,
  validation: ValidationStatus,
  autoRevert: boolean,
  now: number,
): DeviceFirmware {
  const { uuid, version, product, platform, architecture } = metadata;
  const row: DeviceFirmware = {
    id: hub.nextDeviceFirmwareId++,
    metadata: { uuid, version, product, platform, architecture },
    firmwareId: hub.firmwareByUuid(uuid)?.id ?? null,
    validation,
    autoRevertDetected: autoRevert,
    insertedAt: now,
  };
  device.firmwareHistory.push(row);
  return row;
}

/** DeviceFirmwares.update_reported_information (device_firmwares.ex lines 33-46): the current row, in place. */
export function updateReportedInformation(
  device: DeviceState,
  validation: ValidationStatus,
  autoRevert: boolean,
): void {
  const row = currentDeviceFirmware(device);
  if (!row) return;
  row.validation = validation;
  row.autoRevertDetected = autoRevert;
}

/** The row `current_device_firmware_id` points to. */
export function currentDeviceFirmware(device: DeviceState): DeviceFirmware | undefined {
  const id = device.currentDeviceFirmwareId;
  return id === null ? undefined : device.firmwareHistory.find((row) => row.id === id);
}
