/**
 * What a user does on the device page (nerves_hub_web lib/nerves_hub/events/device_events.ex,
 * lib/nerves_hub/devices/updates.ex).
 */
import { audit, deviceState } from './hub.js';
import type { Hub, ReleaseFirmware, UpdateOffer } from './types.js';

export type ManualUpdateResult =
  | { readonly ok: true; readonly offer: UpdateOffer }
  | { readonly ok: false; readonly reason: string };

/**
 * DeviceEvents.manual_update (lines 102-142): a manual in-flight record (no deployment) and Updates.disable_updates
 * in one transaction, then the `update` broadcast, whether or not the device is there to hear it: an offline
 * device keeps the record (until its next join without `currently_downloading_uuid` or the 30-minute expiry) and
 * stays with updates off. The insert fails on the unique device index while any record exists (the `{:ok, _} =`
 * match raises and everything is rolled back), so that push is refused. A device never seen has no page to push
 * from.
 */
export function manualUpdate(
  hub: Hub,
  identifier: string,
  firmware: ReleaseFirmware,
  now: number,
): ManualUpdateResult {
  const device = hub.devices.get(identifier);
  if (!device) return { ok: false, reason: 'unknown device' };
  if (device.inflightUpdate) return { ok: false, reason: 'the device already has an in-flight update' };
  device.inflightUpdate = {
    firmwareUuid: firmware.uuid,
    deploymentId: null,
    status: 'requested',
    progress: null,
    insertedAt: now,
    updatedAt: now,
  };
  disableUpdates(hub, identifier, now);
  audit(hub, device, { at: now, event: 'pushed', firmwareUuid: firmware.uuid });
  return {
    ok: true,
    offer: { identifier, deploymentId: null, firmwareId: firmware.id, updateAvailable: true },
  };
}

/** Updates.disable_updates. */
export function disableUpdates(hub: Hub, identifier: string, now: number): void {
  const device = deviceState(hub, identifier);
  device.updatesEnabled = false;
  audit(hub, device, { at: now, event: 'updates-disabled' });
}

/** Updates.enable_updates: attempts cleared; the device's orchestrator hears `device-updated`. */
export function enableUpdates(hub: Hub, identifier: string, now: number): void {
  const device = deviceState(hub, identifier);
  device.updatesEnabled = true;
  device.updateAttempts = [];
  audit(hub, device, { at: now, event: 'updates-enabled' });
  if (device.deploymentId !== null) hub.listener.orchestratorEvent(device.deploymentId, 'device-updated');
}

/** Updates.clear_penalty_box: unblocked, attempts cleared, updates enabled; the orchestrator is not told. */
export function clearPenaltyBox(hub: Hub, identifier: string, now: number): void {
  const device = deviceState(hub, identifier);
  device.updatesBlockedUntil = null;
  device.updateAttempts = [];
  device.updatesEnabled = true;
  audit(hub, device, { at: now, event: 'penalty-box-cleared' });
}
