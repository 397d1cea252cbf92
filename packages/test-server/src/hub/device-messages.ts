/**
 * The device messages that touch NervesHub's records (nerves_hub_web lib/nerves_hub/device_link.ex
 * `device_message` lines 74-178, `status_update` lines 512-534, `report_network_interface` lines 497-510);
 * every other event changes nothing.
 */
import { isMap } from './casts.js';
import { currentDeviceFirmware } from './device-firmwares.js';
import { audit, deviceState } from './hub.js';
import { firmwareStatusUpdate } from './status-update.js';
import type { Hub, MessageOutcome, NetworkInterface } from './types.js';

const OK: MessageOutcome = { crashed: false };

export function deviceMessage(
  hub: Hub,
  identifier: string,
  event: string,
  payload: unknown,
  now: number,
): MessageOutcome {
  switch (event) {
    case 'firmware_validated':
      return firmwareValidated(hub, identifier, now);
    case 'fwup_progress':
    case 'update_progress':
      return updateProgress(hub, identifier, payload, now);
    case 'status_update':
      return statusUpdate(hub, identifier, payload, now);
    case 'report_network_interface':
      reportNetworkInterface(hub, identifier, payload, now);
      return OK;
    default:
      return OK;
  }
}

/**
 * device_message for `fwup_progress`/`update_progress`: ignored without `value`; no stage and 100 → completed,
 * no stage → updating; then DeviceLink.status_update with the value as progress.
 */
export function updateProgress(hub: Hub, identifier: string, payload: unknown, now: number): MessageOutcome {
  if (!isMap(payload) || !('value' in payload)) return OK;
  const value = payload.value;
  const stage = payload.stage ?? null;
  if (stage === null && value === 100) return statusUpdate(hub, identifier, { status: 'completed' }, now);
  if (stage === null) return statusUpdate(hub, identifier, { status: 'updating', progress: value }, now);
  return statusUpdate(hub, identifier, { status: stage, progress: value }, now);
}

/**
 * DeviceLink.status_update: `started` as is; any status containing "fwup error" (any case) → failed with reason
 * "fwup error"; everything else to FirmwareUpdates.status_update. No `status` key, or a non-string one, raises.
 */
export function statusUpdate(hub: Hub, identifier: string, params: unknown, now: number): MessageOutcome {
  if (!isMap(params) || !('status' in params))
    return { crashed: true, reason: 'status_update without a status' };
  const device = deviceState(hub, identifier);
  const status = params.status;
  if (status === 'started') return firmwareStatusUpdate(hub, device, 'started', {}, now);
  if (typeof status !== 'string') return { crashed: true, reason: 'status is not a string' };
  if (status.toLowerCase().includes('fwup error')) {
    return firmwareStatusUpdate(hub, device, 'failed', { reason: 'fwup error' }, now);
  }
  return firmwareStatusUpdate(hub, device, status, params, now);
}

/** DeviceConnection.humanized_network_interface_name (lib/nerves_hub/devices/device_connection.ex). */
export function humanizedNetworkInterfaceName(name: unknown): NetworkInterface {
  if (typeof name !== 'string') return 'unknown';
  if (name.startsWith('wlan')) return 'wifi';
  if (name.startsWith('eth') || name.startsWith('en')) return 'ethernet';
  if (name.startsWith('wwan')) return 'cellular';
  return 'unknown';
}

/**
 * DeviceLink.report_network_interface + Connections.update_network_interface: the humanised name goes on the
 * connection row unless it is what the connection already has. A payload without `interface` is ignored.
 */
export function reportNetworkInterface(hub: Hub, identifier: string, payload: unknown, now: number): void {
  if (!isMap(payload) || !('interface' in payload)) return;
  const device = deviceState(hub, identifier);
  const networkInterface = humanizedNetworkInterfaceName(payload.interface);
  if (networkInterface === device.networkInterface) return;
  device.networkInterface = networkInterface;
  audit(hub, device, {
    at: now,
    event: 'network-interface',
    reported: typeof payload.interface === 'string' ? payload.interface : JSON.stringify(payload.interface),
    networkInterface,
  });
}

/**
 * Updates.firmware_validated (lib/nerves_hub/devices/updates.ex lines 35-56), one transaction: the device
 * (Device.firmware_validated, lib/nerves_hub/devices/device.ex lines 139-143) and its current history row
 * (DeviceFirmware.firmware_validated, lib/nerves_hub/devices/device_firmware.ex lines 47-51) validated, an audit
 * line. The auto-revert flag stays. The row is updated by the id `current_device_firmware_id` holds: on a device
 * that never reported usable metadata it is nil, Repo.update raises Ecto.NoPrimaryKeyValueError, the transaction
 * is rolled back and the raise crashes the channel (nothing in DeviceLink.firmware_validated, lines 480-484, rescues
 * it). No orchestrator is told: an automatic offer waits for its next run.
 */
export function firmwareValidated(hub: Hub, identifier: string, now: number): MessageOutcome {
  const device = deviceState(hub, identifier);
  const row = currentDeviceFirmware(device);
  if (!row) {
    return {
      crashed: true,
      reason:
        'firmware_validated with no firmware history row: the update of its current row has no primary key',
    };
  }
  device.validation = 'validated';
  row.validation = 'validated';
  audit(hub, device, { at: now, event: 'validated' });
  return OK;
}
