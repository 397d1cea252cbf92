/**
 * Which devices a deployment group offers its firmware to, and the penalty box (nerves_hub_web
 * lib/nerves_hub/managed_deployments/distributed/orchestrator.ex, lib/nerves_hub/devices/updates.ex,
 * lib/nerves_hub/events/device_events.ex). The priority queue, deltas, tags and queue order LIFO are not modelled.
 */
import { audit } from './hub.js';
import { clearInflightUpdate } from './inflight.js';
import type { DeploymentGroup, DeviceState, Hub, UpdateOffer } from './types.js';

const MINUTE_MS = 60_000;

type BlockReason = 'exceeded failure rate' | 'exceeded failure threshold';

/** Updates.device_in_penalty_box?: a block in force. */
export function deviceInPenaltyBox(device: DeviceState, now: number): boolean {
  return device.updatesBlockedUntil !== null && device.updatesBlockedUntil > now;
}

/** Orchestrator.available_slots: concurrent updates minus the group's in-flight records, never below 0. */
export function availableSlots(hub: Hub, group: DeploymentGroup): number {
  let inflight = 0;
  for (const device of hub.devices.values())
    if (device.inflightUpdate?.deploymentId === group.id) inflight += 1;
  return Math.max(0, group.concurrentUpdates - inflight);
}

/**
 * Updates.available_for_update: members of the group with updates enabled, firmware metadata, a validated or
 * unknown validation status, no block in force, a connected connection, no in-flight record, not running the
 * group's firmware, and on one of the release network interfaces when the group names any; longest connected first.
 */
export function availableForUpdate(
  hub: Hub,
  group: DeploymentGroup,
  count: number,
  now: number,
): DeviceState[] {
  if (!group.isActive) return [];
  const interfaces = group.releaseNetworkInterfaces;
  return [...hub.devices.values()]
    .filter(
      (device) =>
        device.deploymentId === group.id &&
        device.updatesEnabled &&
        device.firmware !== null &&
        (device.validation === 'validated' || device.validation === 'unknown') &&
        (device.updatesBlockedUntil === null || device.updatesBlockedUntil < now) &&
        device.connection === 'connected' &&
        device.firmware.uuid !== group.firmware.uuid &&
        device.inflightUpdate === null &&
        (interfaces.length === 0 ||
          (device.networkInterface !== null && interfaces.includes(device.networkInterface))),
    )
    .sort((a, b) => (a.connectedSince ?? 0) - (b.connectedSince ?? 0))
    .slice(0, count);
}

/** Updates.failure_rate_met?: at least `deviceFailureRateAmount` attempts in the last `deviceFailureRateSeconds`. */
export function failureRateMet(device: DeviceState, group: DeploymentGroup, now: number): boolean {
  const since = now - group.deviceFailureRateSeconds * 1000;
  return device.updateAttempts.filter((attempt) => attempt > since).length >= group.deviceFailureRateAmount;
}

/** Updates.failure_threshold_met?: at least `deviceFailureThreshold` attempts on record, however old. */
export function failureThresholdMet(device: DeviceState, group: DeploymentGroup): boolean {
  return device.updateAttempts.length >= group.deviceFailureThreshold;
}

/** Updates.update_blocked_until: the orchestrator's penalty; the attempts stay, so it repeats after the block. */
export function updateBlockedUntil(
  hub: Hub,
  device: DeviceState,
  group: DeploymentGroup,
  reason: BlockReason,
  now: number,
): void {
  const until = now + group.penaltyTimeoutMinutes * MINUTE_MS;
  device.updatesBlockedUntil = until;
  audit(hub, device, {
    at: now,
    event: 'blocked',
    until,
    reason,
    deploymentId: group.id,
    attemptsCleared: false,
  });
}

/** Updates.put_device_in_penalty_box: in-flight record deleted, blocked, attempts cleared. */
export function putDeviceInPenaltyBox(
  hub: Hub,
  device: DeviceState,
  group: DeploymentGroup,
  reason: BlockReason,
  now: number,
): void {
  clearInflightUpdate(hub, device, 'penalty box', now);
  const until = now + group.penaltyTimeoutMinutes * MINUTE_MS;
  device.updatesBlockedUntil = until;
  device.updateAttempts = [];
  audit(hub, device, {
    at: now,
    event: 'blocked',
    until,
    reason,
    deploymentId: group.id,
    attemptsCleared: true,
  });
}

export type Eligibility = 'ok' | 'deployment_group_not_active' | 'up_to_date' | 'updates_blocked';

/**
 * Updates.verify_update_eligibility, reached through resolve_update when an update is scheduled. Blocked devices
 * lose their in-flight record; failure rate or threshold puts them in the penalty box.
 */
export function verifyUpdateEligibility(
  hub: Hub,
  device: DeviceState,
  group: DeploymentGroup,
  now: number,
): Eligibility {
  if (!group.isActive) return 'deployment_group_not_active';
  if (device.firmware?.uuid === group.firmware.uuid) return 'up_to_date';
  if (!device.updatesEnabled || deviceInPenaltyBox(device, now)) {
    clearInflightUpdate(hub, device, 'updates blocked', now);
    return 'updates_blocked';
  }
  if (failureRateMet(device, group, now)) {
    putDeviceInPenaltyBox(hub, device, group, 'exceeded failure rate', now);
    return 'updates_blocked';
  }
  if (failureThresholdMet(device, group)) {
    putDeviceInPenaltyBox(hub, device, group, 'exceeded failure threshold', now);
    return 'updates_blocked';
  }
  return 'ok';
}

/**
 * DeviceEvents.schedule_update: a deployment in-flight record, then resolve_update's eligibility check, an audit
 * line and the push, which says `update_available: false` when the check failed. `undefined` when a record
 * already exists (the real insert raises on the unique index).
 */
export function scheduleUpdate(
  hub: Hub,
  device: DeviceState,
  group: DeploymentGroup,
  now: number,
): UpdateOffer | undefined {
  if (device.inflightUpdate) return undefined;
  device.inflightUpdate = {
    firmwareUuid: group.firmware.uuid,
    deploymentId: group.id,
    status: 'requested',
    progress: null,
    insertedAt: now,
    updatedAt: now,
  };
  const eligibility = verifyUpdateEligibility(hub, device, group, now);
  audit(hub, device, {
    at: now,
    event: 'triggered',
    deploymentId: group.id,
    firmwareUuid: group.firmware.uuid,
  });
  return {
    identifier: device.identifier,
    deploymentId: group.id,
    firmwareId: group.firmware.id,
    updateAvailable: eligibility === 'ok',
  };
}

export interface TriggerResult {
  readonly offers: UpdateOffer[];
  /** Some available devices were not scheduled: the orchestrator asks itself to run again. */
  readonly rerun: boolean;
}

/**
 * Orchestrator.trigger_update (normal queue): nothing for an inactive group; otherwise up to the free slots of
 * available devices, each either blocked (can_device_update? false → Updates.update_blocked_until) or scheduled.
 */
export function triggerUpdate(hub: Hub, deploymentId: number, now: number): TriggerResult {
  const group = hub.deployments.get(deploymentId);
  if (!group?.isActive) return { offers: [], rerun: false };
  const slots = availableSlots(hub, group);
  if (slots === 0) return { offers: [], rerun: false };
  const available = availableForUpdate(hub, group, slots, now);
  const offers: UpdateOffer[] = [];
  for (const device of available) {
    if (failureRateMet(device, group, now)) {
      updateBlockedUntil(hub, device, group, 'exceeded failure rate', now);
    } else if (failureThresholdMet(device, group)) {
      updateBlockedUntil(hub, device, group, 'exceeded failure threshold', now);
    } else {
      const offer = scheduleUpdate(hub, device, group, now);
      if (offer) offers.push(offer);
    }
  }
  return { offers, rerun: offers.length !== available.length };
}
