/**
 * The in-flight record's end outside a status: cleared by a rule, or deleted by the expiry job (nerves_hub_web
 * lib/nerves_hub/firmware_updates.ex `clear_inflight_update` lines 193-205, `delete_expired_inflight_updates`
 * lines 207-221; lib/nerves_hub/workers/expire_inflight_updates.ex runs it every 5 minutes).
 */
import { audit } from './hub.js';
import type { DeviceState, Hub } from './types.js';

/** Records whose `updated_at` is older than this are deleted (`NOW() - INTERVAL '30 minutes'`). */
export const INFLIGHT_EXPIRY_MS = 30 * 60_000;

/** FirmwareUpdates.clear_inflight_update (the reason is ours, for the history). */
export function clearInflightUpdate(hub: Hub, device: DeviceState, reason: string, now: number): void {
  if (!device.inflightUpdate) return;
  device.inflightUpdate = null;
  audit(hub, device, { at: now, event: 'inflight-cleared', reason });
}

/** FirmwareUpdates.delete_expired_inflight_updates: records not updated for 30 minutes are deleted. */
export function deleteExpiredInflightUpdates(hub: Hub, now: number): number {
  let count = 0;
  for (const device of hub.devices.values()) {
    const record = device.inflightUpdate;
    if (!record || record.updatedAt >= now - INFLIGHT_EXPIRY_MS) continue;
    device.inflightUpdate = null;
    audit(hub, device, {
      at: now,
      event: 'expired',
      firmwareUuid: record.firmwareUuid,
      status: record.status,
    });
    count += 1;
  }
  return count;
}
