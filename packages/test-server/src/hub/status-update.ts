/**
 * FirmwareUpdates.status_update/4 (nerves_hub_web lib/nerves_hub/firmware_updates.ex lines 60-148) with
 * do_status_update (150-170), fetch_device (276-302) and maybe_update_update_attempts (264-274), in one transaction:
 * anything that raises rolls all of it back and crashes the device channel.
 */
import { castInteger, type Params } from './casts.js';
import { audit, changed } from './hub.js';
import {
  type DeviceState,
  type Hub,
  INFLIGHT_STATUSES,
  type InflightStatus,
  type InflightUpdate,
  type MessageOutcome,
} from './types.js';

/** FirmwareUpdates.should_persist? (lines 304-307): progress of the same status is written at most this often. */
export const PROGRESS_PERSIST_MS = 15_000;
const MINUTE_MS = 60_000;

const OK: MessageOutcome = { crashed: false };
const crash = (reason: string): MessageOutcome => ({ crashed: true, reason });

/** The statuses whose callback reads `inflight_update.deployment_group` (loaded with `preload: :deployment`). */
const FINAL_STATUSES = ['ignored', 'failed'] as const;

/**
 * A missing record is inserted empty (`requested`) by fetch_device, and a `requested` record counts an update
 * attempt. For `ignored`, `failed` and `rescheduled` with `delay_for`, the callback then reads the deployment group
 * of that record: fetch_device put the freshly inserted struct in place of the preloaded one, so its
 * `deployment_group` is an `Ecto.Association.NotLoaded`, which is truthy. `ignored` and `failed` read
 * `.penalty_timeout_minutes` from it (lines 71-72, 116-117), `rescheduled` reaches
 * DeviceTemplates.audit_firmware_upgrade_rescheduled, which reads `.name` (lib/nerves_hub/audit_logs/templates/
 * device_templates.ex lines 131-142): a KeyError, the transaction is rolled back (no record, no attempt, no audit
 * line) and the channel crashes. A late final status is lost that way.
 */
export function firmwareStatusUpdate(
  hub: Hub,
  device: DeviceState,
  status: string,
  info: Params,
  now: number,
): MessageOutcome {
  const reschedule = status === 'rescheduled' && 'delay_for' in info;
  // NaiveDateTime.add/3 takes integers only; it runs before the transaction.
  if (reschedule && !Number.isInteger(info.delay_for)) return crash('delay_for is not an integer');
  const clears = (FINAL_STATUSES as readonly string[]).includes(status) || reschedule;
  const current = device.inflightUpdate;
  if (clears && current === null) {
    return crash(
      `${status} with no in-flight record: the callback reads the deployment group of an unloaded record`,
    );
  }
  // The audit line of a final status keeps its reason: DeviceTemplates.truncate_reason (device_templates.ex lines
  // 229-237) has a clause for nil and one for a string, so any other reason raises and rolls everything back.
  const reason = typeof info.reason === 'string' ? info.reason : null;
  if (clears && info.reason != null && reason === null) return crash('reason is not a string');
  let progress: number | null = null;
  let write = true;
  if (!clears) {
    // InflightUpdate.update_status_changeset casts the status to the Ecto.Enum; Repo.update! raises on failure.
    if (!(INFLIGHT_STATUSES as readonly string[]).includes(status))
      return crash(`unknown status "${status}"`);
    if (status === 'downloading' || status === 'updating') {
      // Written only when the status changes or the record is older than 15 s; only then is progress cast.
      write =
        (current?.status ?? 'requested') !== status ||
        (current !== null && current.updatedAt < now - PROGRESS_PERSIST_MS);
      if (write) {
        const cast = castInteger(info.progress);
        if (cast === undefined) return crash('progress is not an integer');
        progress = cast;
      }
    }
  }

  let record = current;
  if (!record) {
    record = {
      firmwareUuid: null,
      deploymentId: null,
      status: 'requested',
      progress: null,
      insertedAt: now,
      updatedAt: now,
    };
    device.inflightUpdate = record;
  }
  if (record.status === 'requested') device.updateAttempts.push(now);
  const group = record.deploymentId === null ? undefined : hub.deployments.get(record.deploymentId);

  if (status === 'failed' || status === 'ignored') {
    device.inflightUpdate = null;
    const blockedUntil = group ? now + group.penaltyTimeoutMinutes * MINUTE_MS : null;
    if (blockedUntil !== null) device.updatesBlockedUntil = blockedUntil;
    audit(hub, device, { at: now, event: status, reason, blockedUntil });
  } else if (reschedule) {
    device.inflightUpdate = null;
    const until = now + (info.delay_for as number);
    if (group) device.updatesBlockedUntil = until;
    audit(hub, device, { at: now, event: 'rescheduled', reason, until, blocked: group !== undefined });
  } else if (write) {
    setStatus(hub, device, record, status as InflightStatus, progress, now, current === null);
  }
  changed(hub, device);
  return OK;
}

/** Repo.update of InflightUpdate.update_status_changeset: `updated_at` moves only when a value changes. */
function setStatus(
  hub: Hub,
  device: DeviceState,
  record: InflightUpdate,
  status: InflightStatus,
  progress: number | null,
  now: number,
  created: boolean,
): void {
  const statusChanged = record.status !== status;
  if (!statusChanged && record.progress === progress) {
    if (created) audit(hub, device, { at: now, event: 'status', status, progress });
    return;
  }
  record.status = status;
  record.progress = progress;
  record.updatedAt = now;
  if (statusChanged || created) audit(hub, device, { at: now, event: 'status', status, progress });
}
