// NervesHub's update records, rule by rule, on an injected clock: no sockets, no timers.
import { beforeEach, describe, expect, it } from 'vitest';
import { deviceConnecting, deviceDisconnected, deviceOnline } from '../src/hub/connection.js';
import { createDeploymentGroup, updateDeploymentGroup } from '../src/hub/deployments.js';
import { deviceMessage, humanizedNetworkInterfaceName, statusUpdate } from '../src/hub/device-messages.js';
import { devicePage } from '../src/hub/device-page.js';
import { createHub, deviceState } from '../src/hub/hub.js';
import { deleteExpiredInflightUpdates } from '../src/hub/inflight.js';
import { deviceJoin } from '../src/hub/join.js';
import {
  availableForUpdate,
  failureRateMet,
  failureThresholdMet,
  scheduleUpdate,
  triggerUpdate,
  verifyUpdateEligibility,
} from '../src/hub/orchestrator.js';
import type { DeploymentGroup, Hub, ReleaseFirmware } from '../src/hub/types.js';
import { clearPenaltyBox, enableUpdates, manualUpdate } from '../src/hub/user-actions.js';

const MINUTE = 60_000;
const RUNNING = 'aaaaaaaa-0000-4000-8000-000000000001';
/** Another firmware the device may report (a join with the same uuid as on record keeps the old metadata). */
const OTHER = 'cccccccc-0000-4000-8000-000000000003';
const TARGET: ReleaseFirmware = {
  id: 'target-file',
  uuid: 'bbbbbbbb-0000-4000-8000-000000000002',
  version: '2.0.0',
  product: 'demo',
  platform: 'host',
  architecture: 'x86_64',
};

let hub: Hub;
let now: number;
let orchestratorEvents: [number, string][];
let changes: string[];

beforeEach(() => {
  now = Date.UTC(2026, 0, 1);
  orchestratorEvents = [];
  changes = [];
  hub = createHub({
    firmwareByUuid: (uuid) => (uuid === TARGET.uuid ? TARGET : undefined),
    listener: {
      changed: (identifier) => changes.push(identifier),
      orchestratorEvent: (id, event) => orchestratorEvents.push([id, event]),
    },
  });
});

function joinParams(uuid = RUNNING, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    nerves_fw_uuid: uuid,
    nerves_fw_product: 'demo',
    nerves_fw_version: uuid === TARGET.uuid ? '2.0.0' : '1.0.0',
    nerves_fw_platform: 'host',
    nerves_fw_architecture: 'x86_64',
    device_api_version: '2.0.0',
    currently_downloading_uuid: null,
    meta: { firmware_validated: true },
    ...extra,
  };
}

/** A device connected, joined and online, as after a real join. */
function online(identifier: string, params = joinParams()) {
  deviceConnecting(hub, identifier, now);
  expect(deviceJoin(hub, identifier, params, now)).toEqual({ status: 'ok' });
  deviceOnline(hub, identifier, now);
  return deviceState(hub, identifier);
}

function deployment(settings: Partial<DeploymentGroup> = {}): DeploymentGroup {
  return createDeploymentGroup(hub, TARGET, { devices: 'all', ...settings }, now);
}

const events = (identifier: string) => deviceState(hub, identifier).history.map((entry) => entry.event);

describe('join (DeviceLink.join)', () => {
  it('new firmware uuid: firmware_update_successful deletes the record, clears attempts and the block', () => {
    const device = online('d1');
    device.inflightUpdate = {
      firmwareUuid: TARGET.uuid,
      deploymentId: null,
      status: 'completed',
      progress: null,
      insertedAt: now,
      updatedAt: now,
    };
    device.updateAttempts = [now - 1000];
    device.updatesBlockedUntil = now + MINUTE;
    expect(deviceJoin(hub, 'd1', joinParams(TARGET.uuid), now)).toEqual({ status: 'ok' });
    expect(device.firmware).toMatchObject({ uuid: TARGET.uuid, version: '2.0.0' });
    expect(device.inflightUpdate).toBeNull();
    expect(device.updateAttempts).toEqual([]);
    expect(device.updatesBlockedUntil).toBeNull();
    expect(device.history.at(-1)).toEqual({
      at: now,
      event: 'firmware-updated',
      from: RUNNING,
      to: TARGET.uuid,
    });
  });

  it('same firmware uuid: only the validation status changes; the record and attempts stay', () => {
    const device = online('d1');
    device.updateAttempts = [now];
    const before = device.history.length;
    deviceJoin(hub, 'd1', joinParams(RUNNING, { currently_downloading_uuid: TARGET.uuid, meta: {} }), now);
    expect(device.validation).toBe('unknown');
    expect(device.updateAttempts).toEqual([now]);
    expect(device.history.length).toBe(before);
  });

  it('maybe_clear_inflight_update: only a non-empty currently_downloading_uuid string keeps the record', () => {
    const device = online('d1');
    for (const [value, kept] of [
      [TARGET.uuid, true],
      ['', false],
      [null, false],
      [undefined, false],
      [42, false],
    ] as const) {
      device.inflightUpdate = {
        firmwareUuid: TARGET.uuid,
        deploymentId: null,
        status: 'started',
        progress: null,
        insertedAt: now,
        updatedAt: now,
      };
      deviceJoin(hub, 'd1', joinParams(RUNNING, { currently_downloading_uuid: value }), now);
      expect(device.inflightUpdate !== null, String(value)).toBe(kept);
    }
    expect(device.history.at(-1)).toMatchObject({ event: 'inflight-cleared' });
  });

  it('fetch_validation_status: true → validated, false → not_validated, absent or null → unknown', () => {
    const device = online('d1');
    const cases: [unknown, string][] = [
      [{ firmware_validated: true }, 'validated'],
      [{ firmware_validated: false }, 'not_validated'],
      [{ firmware_validated: null }, 'unknown'],
      [{}, 'unknown'],
    ];
    for (const [meta, status] of cases) {
      deviceJoin(hub, 'd1', joinParams(RUNNING, { meta }), now);
      expect(device.validation).toBe(status);
    }
    deviceJoin(hub, 'd1', { nerves_fw_uuid: RUNNING }, now);
    expect(device.validation).toBe('unknown');
  });

  it('metadata_from_device: incomplete metadata falls back to the product firmware by uuid, else none', () => {
    const known = online('known', { nerves_fw_uuid: TARGET.uuid });
    expect(known.firmware).toEqual({
      uuid: TARGET.uuid,
      version: TARGET.version,
      product: TARGET.product,
      platform: TARGET.platform,
      architecture: TARGET.architecture,
    });
    const unknown = online('unknown', { nerves_fw_uuid: 'not-uploaded', nerves_fw_product: 'demo' });
    expect(unknown.firmware).toBeNull();
    expect(events('unknown')).toEqual([]);
    // A non-string optional field makes the report unusable too.
    const odd = online('odd', joinParams(RUNNING, { fwup_version: 1 }));
    expect(odd.firmware).toBeNull();
  });

  it('validate_required: a whitespace-only required field makes the report unusable', () => {
    for (const field of ['nerves_fw_uuid', 'nerves_fw_product', 'nerves_fw_version', 'nerves_fw_platform']) {
      const identifier = `blank-${field}`;
      const device = online(identifier, joinParams(RUNNING, { [field]: ' \t ' }));
      expect(device.firmware, field).toBeNull();
    }
    // The uuid fallback still applies when only another field is blank.
    const known = online('blank-known', joinParams(TARGET.uuid, { nerves_fw_architecture: '  ' }));
    expect(known.firmware?.uuid).toBe(TARGET.uuid);
  });

  it('no usable metadata while some is on record still counts as a successful update (source quirk)', () => {
    const device = online('d1');
    device.updateAttempts = [now];
    deviceJoin(hub, 'd1', { currently_downloading_uuid: null }, now);
    expect(device.firmware?.uuid).toBe(RUNNING);
    expect(device.updateAttempts).toEqual([]);
    expect(device.history.at(-1)).toMatchObject({ event: 'firmware-updated', from: RUNNING, to: RUNNING });
  });

  it('values that raise crash the join and change nothing', () => {
    const device = online('d1');
    device.inflightUpdate = {
      firmwareUuid: TARGET.uuid,
      deploymentId: null,
      status: 'started',
      progress: null,
      insertedAt: now,
      updatedAt: now,
    };
    const snapshot = structuredClone(device);
    const crashing: unknown[] = [
      'not a map',
      [],
      joinParams(RUNNING, { device_api_version: 2 }),
      joinParams(RUNNING, { device_api_version: null }),
      joinParams(RUNNING, { meta: 'validated' }),
      joinParams(RUNNING, { meta: null }),
      joinParams(RUNNING, { meta: { firmware_validated: 'yes' } }),
      { nerves_fw_uuid: 42 },
    ];
    for (const params of crashing) {
      expect(deviceJoin(hub, 'd1', params, now).status, JSON.stringify(params)).toBe('crashed');
    }
    expect(device).toEqual(snapshot);
  });

  it('a firmware_auto_revert_detected that is not an Ecto boolean fails the join ("could not connect")', () => {
    const device = online('d1');
    const snapshot = structuredClone(device);
    const outcome = deviceJoin(
      hub,
      'd1',
      joinParams(TARGET.uuid, { meta: { firmware_auto_revert_detected: 'maybe' } }),
      now,
    );
    expect(outcome.status).toBe('error');
    expect(device).toEqual(snapshot);
    deviceJoin(hub, 'd1', joinParams(RUNNING, { meta: { firmware_auto_revert_detected: 'true' } }), now);
    expect(device.autoRevertDetected).toBe(true);
  });

  it('set_deployment_group: only active groups of the same platform and architecture are matched', () => {
    createDeploymentGroup(hub, TARGET, { devices: ['d1'], isActive: false }, now);
    createDeploymentGroup(hub, { ...TARGET, platform: 'rpi4' }, { devices: ['d1'] }, now);
    const device = online('d1');
    expect(device.deploymentId).toBeNull();
    const matching = createDeploymentGroup(hub, TARGET, { devices: ['d1'] }, now);
    expect(device.deploymentId).toBe(matching.id);
  });

  it('a version condition: members must meet it; a device leaves a group it no longer meets', () => {
    const group = createDeploymentGroup(hub, TARGET, { devices: 'all', versionCondition: '~> 1.0' }, now);
    expect(online('one', joinParams(RUNNING, { nerves_fw_version: '1.4.2' })).deploymentId).toBe(group.id);
    expect(online('two', joinParams(RUNNING, { nerves_fw_version: '2.0.0' })).deploymentId).toBeNull();
    expect(deviceJoin(hub, 'one', joinParams(OTHER, { nerves_fw_version: '2.1.0' }), now)).toEqual({
      status: 'ok',
    });
    expect(deviceState(hub, 'one').deploymentId).toBeNull();
  });

  it('a version that is not SemVer crashes the join when a matching group has a version condition', () => {
    const device = online('d1', joinParams(RUNNING, { currently_downloading_uuid: null }));
    device.inflightUpdate = {
      firmwareUuid: TARGET.uuid,
      deploymentId: null,
      status: 'received',
      progress: null,
      insertedAt: now,
      updatedAt: now,
    };
    createDeploymentGroup(hub, TARGET, { devices: ['d1'], versionCondition: '>= 1.0.0' }, now);
    const outcome = deviceJoin(hub, 'd1', joinParams(OTHER, { nerves_fw_version: '1.0' }), now);
    expect(outcome).toMatchObject({ status: 'crashed', reason: expect.stringMatching(/not SemVer/) });
    // The writes before refresh_deployment_group stay: the reported metadata and the cleared record.
    expect(device.firmware?.version).toBe('1.0');
    expect(device.inflightUpdate).toBeNull();
    expect(device.deploymentId).toBeNull();
  });

  it('a version that is not SemVer joins when no matching group has a version condition', () => {
    createDeploymentGroup(hub, TARGET, { devices: ['d1'] }, now);
    createDeploymentGroup(
      hub,
      { ...TARGET, architecture: 'arm' },
      { devices: ['d1'], versionCondition: '~> 1.0' },
      now,
    );
    createDeploymentGroup(hub, TARGET, { devices: ['d1'], versionCondition: '~> 1.0', isActive: false }, now);
    const device = online('d1', joinParams(RUNNING, { nerves_fw_version: 'v1.0.0' }));
    expect(device.deploymentId).toBe(1);
  });

  it('a member in a conditioned group leaves it when its version stops parsing, and the join then crashes', () => {
    const group = createDeploymentGroup(hub, TARGET, { devices: ['d1'], versionCondition: '~> 1.0' }, now);
    const device = online('d1');
    expect(device.deploymentId).toBe(group.id);
    const outcome = deviceJoin(hub, 'd1', joinParams(OTHER, { nerves_fw_version: '1.0.0.1' }), now);
    expect(outcome.status).toBe('crashed');
    expect(device.deploymentId).toBeNull();
    expect(device.history.at(-1)).toMatchObject({ event: 'deployment-set', deploymentId: null });
  });

  it('an invalid version condition is refused when the group is created', () => {
    expect(() => createDeploymentGroup(hub, TARGET, { versionCondition: '>= 1.0' }, now)).toThrow(
      /versionCondition ">= 1.0" is not an Elixir version requirement/,
    );
  });

  it('refresh_deployment_group: a joining device follows the first group that lists it', () => {
    createDeploymentGroup(hub, TARGET, { devices: ['other'] }, now);
    const group = createDeploymentGroup(hub, TARGET, { devices: ['d1'] }, now);
    const device = online('d1');
    expect(device.deploymentId).toBe(group.id);
    expect(device.history).toContainEqual({ at: now, event: 'deployment-set', deploymentId: group.id });
    updateDeploymentGroup(hub, group.id, { devices: [] }, now);
    expect(device.deploymentId).toBeNull();
  });
});

describe('status_update (DeviceLink.status_update → FirmwareUpdates.status_update)', () => {
  it('a status with no record creates an empty requested record and counts an attempt', () => {
    const device = online('d1');
    expect(statusUpdate(hub, 'd1', { status: 'received' }, now)).toEqual({ crashed: false });
    expect(device.inflightUpdate).toEqual({
      firmwareUuid: null,
      deploymentId: null,
      status: 'received',
      progress: null,
      insertedAt: now,
      updatedAt: now,
    });
    expect(device.updateAttempts).toEqual([now]);
  });

  it('a final status with no record crashes the channel: nothing recorded, no attempt counted', () => {
    const device = online('d1');
    const snapshot = structuredClone(device);
    const finals: Record<string, unknown>[] = [
      { status: 'ignored', reason: 'not now' },
      { status: 'failed', reason: 'Download failed : boom' },
      { status: 'rescheduled', delay_for: 60_000, reason: 'maintenance window' },
      { status: 'fwup error: bad crc' },
    ];
    for (const params of finals) {
      expect(statusUpdate(hub, 'd1', params, now), JSON.stringify(params)).toMatchObject({ crashed: true });
    }
    expect(device).toEqual(snapshot);
    // Without delay_for `rescheduled` only sets the status, so it creates a record like any other status.
    expect(statusUpdate(hub, 'd1', { status: 'rescheduled' }, now)).toEqual({ crashed: false });
    expect(device.inflightUpdate?.status).toBe('rescheduled');
  });

  it('a final status after the 30-minute expiry deleted the record is lost the same way', () => {
    const device = online('d1');
    deployment();
    const offer = triggerUpdate(hub, device.deploymentId!, now).offers[0];
    expect(offer?.identifier).toBe('d1');
    statusUpdate(hub, 'd1', { status: 'received' }, now);
    expect(device.updateAttempts).toEqual([now]);
    expect(deleteExpiredInflightUpdates(hub, now + 31 * MINUTE)).toBe(1);
    const snapshot = structuredClone(device);
    expect(statusUpdate(hub, 'd1', { status: 'failed', reason: 'late' }, now + 32 * MINUTE)).toMatchObject({
      crashed: true,
    });
    expect(device).toEqual(snapshot);
    expect(device.updatesBlockedUntil).toBeNull();
  });

  it('maybe_update_update_attempts: only the first status on a requested record counts', () => {
    const device = online('d1');
    expect(manualUpdate(hub, 'd1', TARGET, now).ok).toBe(true);
    statusUpdate(hub, 'd1', { status: 'received' }, now);
    statusUpdate(hub, 'd1', { status: 'started' }, now + 1);
    statusUpdate(hub, 'd1', { status: 'completed' }, now + 2);
    expect(device.updateAttempts).toEqual([now]);
    expect(device.inflightUpdate?.status).toBe('completed');
  });

  it('failed: clears the record; a deployment record also blocks for the penalty timeout', () => {
    const manual = online('manual');
    manualUpdate(hub, 'manual', TARGET, now);
    statusUpdate(hub, 'manual', { status: 'failed', reason: 'disk full' }, now);
    expect(manual.inflightUpdate).toBeNull();
    expect(manual.updatesBlockedUntil).toBeNull();
    expect(manual.history.at(-1)).toEqual({
      at: now,
      event: 'failed',
      reason: 'disk full',
      blockedUntil: null,
    });

    const group = deployment({ penaltyTimeoutMinutes: 60 });
    const device = online('d2');
    triggerUpdate(hub, group.id, now);
    statusUpdate(hub, 'd2', { status: 'failed', reason: 'boom' }, now);
    expect(device.inflightUpdate).toBeNull();
    expect(device.updatesBlockedUntil).toBe(now + 60 * MINUTE);
    expect(device.history.at(-1)).toEqual({
      at: now,
      event: 'failed',
      reason: 'boom',
      blockedUntil: now + 60 * MINUTE,
    });
  });

  it('ignored: clears the record; a deployment record also blocks for the penalty timeout', () => {
    const group = deployment();
    const device = online('d1');
    triggerUpdate(hub, group.id, now);
    statusUpdate(hub, 'd1', { status: 'ignored', reason: '' }, now);
    expect(device.inflightUpdate).toBeNull();
    expect(device.updatesBlockedUntil).toBe(now + 1440 * MINUTE);
    const manual = online('manual');
    manualUpdate(hub, 'manual', TARGET, now);
    statusUpdate(hub, 'manual', { status: 'ignored' }, now);
    expect(manual.inflightUpdate).toBeNull();
    expect(manual.updatesBlockedUntil).toBeNull();
  });

  it('rescheduled with delay_for (ms): clears; a deployment record blocks until now + delay_for', () => {
    const group = deployment();
    const device = online('d1');
    triggerUpdate(hub, group.id, now);
    statusUpdate(hub, 'd1', { status: 'rescheduled', delay_for: 90_000, reason: 'busy' }, now);
    expect(device.inflightUpdate).toBeNull();
    expect(device.updatesBlockedUntil).toBe(now + 90_000);
    expect(device.history.at(-1)).toEqual({
      at: now,
      event: 'rescheduled',
      reason: 'busy',
      until: now + 90_000,
      blocked: true,
    });
    const manual = online('manual');
    manualUpdate(hub, 'manual', TARGET, now);
    statusUpdate(hub, 'manual', { status: 'rescheduled', delay_for: 5 }, now);
    expect(manual.inflightUpdate).toBeNull();
    expect(manual.updatesBlockedUntil).toBeNull();
  });

  it('rescheduled without delay_for only sets the status', () => {
    const device = online('d1');
    manualUpdate(hub, 'd1', TARGET, now);
    statusUpdate(hub, 'd1', { status: 'rescheduled' }, now);
    expect(device.inflightUpdate?.status).toBe('rescheduled');
  });

  it('a status containing "fwup error" (any case) is failed with reason "fwup error"', () => {
    const group = deployment();
    const device = online('d1');
    triggerUpdate(hub, group.id, now);
    statusUpdate(hub, 'd1', { status: 'FWUP ERROR: bad', reason: 'ignored text' }, now);
    expect(device.inflightUpdate).toBeNull();
    expect(device.history.at(-1)).toMatchObject({ event: 'failed', reason: 'fwup error' });
    expect(device.updatesBlockedUntil).toBe(now + 1440 * MINUTE);
  });

  it('values that raise crash the channel and roll everything back (no record, no attempt)', () => {
    const device = online('d1');
    const snapshot = structuredClone(device);
    for (const payload of [
      {},
      [],
      { status: null },
      { status: 3 },
      { status: 'bogus' },
      { status: 'rescheduled', delay_for: '60000' },
      { status: 'rescheduled', delay_for: 1.5 },
      { status: 'rescheduled', delay_for: null },
      { status: 'downloading', progress: 'half' },
    ]) {
      expect(statusUpdate(hub, 'd1', payload, now).crashed, JSON.stringify(payload)).toBe(true);
    }
    expect(device).toEqual(snapshot);
  });

  it('downloading/updating progress is written at most every 15 s unless the status changes', () => {
    const device = online('d1');
    manualUpdate(hub, 'd1', TARGET, now);
    statusUpdate(hub, 'd1', { status: 'downloading', progress: 10 }, now);
    statusUpdate(hub, 'd1', { status: 'downloading', progress: 20 }, now + 5_000);
    expect(device.inflightUpdate).toMatchObject({ progress: 10, updatedAt: now });
    // Not written, so not cast: a bad progress does not crash here.
    expect(statusUpdate(hub, 'd1', { status: 'downloading', progress: 'x' }, now + 6_000).crashed).toBe(
      false,
    );
    statusUpdate(hub, 'd1', { status: 'downloading', progress: '30' }, now + 16_000);
    expect(device.inflightUpdate).toMatchObject({ progress: 30, updatedAt: now + 16_000 });
    statusUpdate(hub, 'd1', { status: 'updating', progress: 1 }, now + 17_000);
    expect(device.inflightUpdate).toMatchObject({ status: 'updating', progress: 1, updatedAt: now + 17_000 });
  });
});

describe('fwup_progress / update_progress (DeviceLink.device_message)', () => {
  it('value required; no stage and 100 → completed; no stage → updating; a stage goes through status_update', () => {
    const device = online('d1');
    manualUpdate(hub, 'd1', TARGET, now);
    expect(deviceMessage(hub, 'd1', 'fwup_progress', { stage: 'bogus' }, now).crashed).toBe(false);
    expect(device.inflightUpdate?.status).toBe('requested');
    deviceMessage(hub, 'd1', 'update_progress', { value: 40 }, now);
    expect(device.inflightUpdate).toMatchObject({ status: 'updating', progress: 40 });
    deviceMessage(hub, 'd1', 'fwup_progress', { value: 100, stage: null }, now + 1);
    expect(device.inflightUpdate).toMatchObject({ status: 'completed', progress: null });
    deviceMessage(hub, 'd1', 'fwup_progress', { value: 5, stage: 'downloading' }, now + 2);
    expect(device.inflightUpdate).toMatchObject({ status: 'downloading', progress: 5 });
    expect(deviceMessage(hub, 'd1', 'fwup_progress', { value: 5, stage: 'bogus' }, now).crashed).toBe(true);
    expect(deviceMessage(hub, 'd1', 'fwup_progress', { value: 50.5, stage: 'updating' }, now).crashed).toBe(
      true,
    );
    expect(device.inflightUpdate).toMatchObject({ status: 'downloading', progress: 5 });
  });
});

describe('report_network_interface (DeviceConnection.humanized_network_interface_name)', () => {
  it('humanises wlan*/eth*/en*/wwan*, writes only changes, and is reset by the next connection', () => {
    expect(['wlan0', 'eth0', 'enp3s0', 'wwan0', 'usb0', 7].map(humanizedNetworkInterfaceName)).toEqual([
      'wifi',
      'ethernet',
      'ethernet',
      'cellular',
      'unknown',
      'unknown',
    ]);
    const device = online('d1');
    expect(device.networkInterface).toBeNull();
    deviceMessage(hub, 'd1', 'report_network_interface', { interface: 'wlan0' }, now);
    deviceMessage(hub, 'd1', 'report_network_interface', { interface: 'wlan1' }, now);
    deviceMessage(hub, 'd1', 'report_network_interface', {}, now);
    expect(device.networkInterface).toBe('wifi');
    expect(events('d1').filter((event) => event === 'network-interface')).toHaveLength(1);
    deviceConnecting(hub, 'd1', now);
    expect(device.networkInterface).toBeNull();
  });
});

describe('manual push (DeviceEvents.manual_update)', () => {
  it('records a manual in-flight update, disables updates, and is refused while a record exists', () => {
    const device = online('d1');
    const result = manualUpdate(hub, 'd1', TARGET, now);
    expect(result).toEqual({
      ok: true,
      offer: { identifier: 'd1', deploymentId: null, firmwareId: TARGET.id, updateAvailable: true },
    });
    expect(device.inflightUpdate).toMatchObject({
      firmwareUuid: TARGET.uuid,
      deploymentId: null,
      status: 'requested',
    });
    expect(device.updatesEnabled).toBe(false);
    expect(events('d1').slice(-2)).toEqual(['updates-disabled', 'pushed']);
    expect(manualUpdate(hub, 'd1', TARGET, now)).toMatchObject({ ok: false });
    expect(manualUpdate(hub, 'nobody', TARGET, now)).toMatchObject({ ok: false });
  });
});

describe('deployment offers (Orchestrator.trigger_update, Updates.available_for_update)', () => {
  it('available_for_update: members, updates enabled, metadata, validation, no block, connected, no record, not on target', () => {
    createDeploymentGroup(hub, TARGET, { devices: ['elsewhere'] }, now);
    const group = deployment();
    online('ok');
    online('not-validated', joinParams(RUNNING, { meta: { firmware_validated: false } }));
    online('unknown-validation', joinParams(RUNNING, { meta: {} }));
    online('on-target', joinParams(TARGET.uuid));
    online('no-metadata', { nerves_fw_uuid: 'not-uploaded' });
    online('disabled').updatesEnabled = false;
    online('blocked').updatesBlockedUntil = now + 1;
    online('block-over').updatesBlockedUntil = now - 1;
    online('busy');
    statusUpdate(hub, 'busy', { status: 'received' }, now);
    deviceConnecting(hub, 'connecting', now);
    deviceJoin(hub, 'connecting', joinParams(), now);
    online('gone');
    deviceDisconnected(hub, 'gone');
    online('elsewhere');
    const available = availableForUpdate(hub, group, 100, now).map((device) => device.identifier);
    expect(available.sort()).toEqual(['block-over', 'ok', 'unknown-validation']);
  });

  it('release network interfaces: only devices on a listed interface; empty means any', () => {
    const group = deployment({ releaseNetworkInterfaces: ['ethernet'] });
    online('wired');
    deviceMessage(hub, 'wired', 'report_network_interface', { interface: 'eth0' }, now);
    online('wireless');
    deviceMessage(hub, 'wireless', 'report_network_interface', { interface: 'wlan0' }, now);
    online('silent');
    expect(availableForUpdate(hub, group, 10, now).map((d) => d.identifier)).toEqual(['wired']);
    updateDeploymentGroup(hub, group.id, { releaseNetworkInterfaces: [] }, now);
    expect(availableForUpdate(hub, group, 10, now)).toHaveLength(3);
  });

  it('schedule_update: a deployment in-flight record, an audit line and an offer, within the free slots', () => {
    const group = deployment({ concurrentUpdates: 2 });
    now += 1;
    online('first');
    now += 1;
    online('second');
    now += 1;
    online('third');
    const { offers, rerun } = triggerUpdate(hub, group.id, now);
    expect(offers.map((offer) => offer.identifier)).toEqual(['first', 'second']);
    expect(offers[0]).toEqual({
      identifier: 'first',
      deploymentId: group.id,
      firmwareId: TARGET.id,
      updateAvailable: true,
    });
    expect(rerun).toBe(false);
    expect(deviceState(hub, 'first').inflightUpdate).toMatchObject({
      deploymentId: group.id,
      firmwareUuid: TARGET.uuid,
    });
    expect(events('first').at(-1)).toBe('triggered');
    expect(triggerUpdate(hub, group.id, now).offers).toEqual([]);
    updateDeploymentGroup(hub, group.id, { isActive: false }, now);
    statusUpdate(hub, 'first', { status: 'failed' }, now);
    expect(triggerUpdate(hub, group.id, now).offers).toEqual([]);
  });

  it('can_device_update?: failure rate or threshold → update_blocked_until, attempts kept, so it repeats', () => {
    const group = deployment({ deviceFailureThreshold: 2, penaltyTimeoutMinutes: 10 });
    const device = online('d1');
    for (let attempt = 0; attempt < 2; attempt++) {
      expect(triggerUpdate(hub, group.id, now).offers).toHaveLength(1);
      statusUpdate(hub, 'd1', { status: 'received' }, now);
      statusUpdate(hub, 'd1', { status: 'failed', reason: 'x' }, now);
      now += 10 * MINUTE + 1;
    }
    expect(failureThresholdMet(device, group)).toBe(true);
    const result = triggerUpdate(hub, group.id, now);
    expect(result).toEqual({ offers: [], rerun: true });
    expect(device.updatesBlockedUntil).toBe(now + 10 * MINUTE);
    expect(device.updateAttempts).toHaveLength(2);
    expect(device.history.at(-1)).toMatchObject({ event: 'blocked', reason: 'exceeded failure threshold' });
    now += 10 * MINUTE + 1;
    triggerUpdate(hub, group.id, now);
    expect(device.history.filter((entry) => entry.event === 'blocked')).toHaveLength(2);

    const rate = deployment({
      deviceFailureRateAmount: 2,
      deviceFailureRateSeconds: 60,
      deviceFailureThreshold: 99,
    });
    const fast = deviceState(hub, 'fast');
    online('fast');
    updateDeploymentGroup(hub, rate.id, { devices: ['fast'] }, now);
    fast.deploymentId = rate.id;
    fast.updateAttempts = [now - 30_000, now - 10_000];
    expect(failureRateMet(fast, rate, now)).toBe(true);
    expect(failureRateMet(fast, rate, now + 31_000)).toBe(false);
    triggerUpdate(hub, rate.id, now);
    expect(fast.history.at(-1)).toMatchObject({ event: 'blocked', reason: 'exceeded failure rate' });
  });

  it('verify_update_eligibility / put_device_in_penalty_box: late checks delete the record and clear attempts', () => {
    const group = deployment({ deviceFailureThreshold: 1 });
    const device = online('d1');
    device.updateAttempts = [now - MINUTE];
    const offer = scheduleUpdate(hub, device, group, now);
    expect(offer?.updateAvailable).toBe(false);
    expect(device.inflightUpdate).toBeNull();
    expect(device.updateAttempts).toEqual([]);
    expect(device.history.at(-2)).toMatchObject({ event: 'blocked', attemptsCleared: true });
    expect(verifyUpdateEligibility(hub, device, group, now)).toBe('updates_blocked');
    const current = online('current', joinParams(TARGET.uuid));
    expect(verifyUpdateEligibility(hub, current, group, now)).toBe('up_to_date');
  });

  it('a device reporting the deployment firmware counts as updated and wakes the orchestrator', () => {
    const group = deployment();
    online('d1');
    triggerUpdate(hub, group.id, now);
    orchestratorEvents = [];
    deviceJoin(hub, 'd1', joinParams(TARGET.uuid), now);
    expect(group.currentUpdatedDevices).toBe(1);
    expect(orchestratorEvents).toEqual([[group.id, 'device-updated']]);
  });

  it('device online: should_trigger? unless on the target firmware or disabled and blocked', () => {
    const group = deployment();
    orchestratorEvents = [];
    online('d1');
    online('current', joinParams(TARGET.uuid));
    const blocked = online('blocked');
    blocked.updatesEnabled = false;
    blocked.updatesBlockedUntil = now + MINUTE;
    orchestratorEvents = [];
    for (const id of ['d1', 'current', 'blocked']) deviceOnline(hub, id, now);
    expect(orchestratorEvents).toEqual([[group.id, 'device-online']]);
  });
});

describe('users and background work', () => {
  it('enable_updates clears attempts and wakes the orchestrator; clear_penalty_box unblocks without waking it', () => {
    const group = deployment();
    const device = online('d1');
    device.updatesEnabled = false;
    device.updateAttempts = [now];
    orchestratorEvents = [];
    enableUpdates(hub, 'd1', now);
    expect(device).toMatchObject({ updatesEnabled: true, updateAttempts: [] });
    expect(orchestratorEvents).toEqual([[group.id, 'device-updated']]);
    device.updatesBlockedUntil = now + MINUTE;
    device.updatesEnabled = false;
    device.updateAttempts = [now];
    orchestratorEvents = [];
    clearPenaltyBox(hub, 'd1', now);
    expect(device).toMatchObject({ updatesEnabled: true, updateAttempts: [], updatesBlockedUntil: null });
    expect(orchestratorEvents).toEqual([]);
  });

  it('delete_expired_inflight_updates: a record untouched for 30 minutes is deleted', () => {
    const device = online('d1');
    manualUpdate(hub, 'd1', TARGET, now);
    statusUpdate(hub, 'd1', { status: 'received' }, now + MINUTE);
    expect(deleteExpiredInflightUpdates(hub, now + 31 * MINUTE)).toBe(0);
    expect(deleteExpiredInflightUpdates(hub, now + 31 * MINUTE + 1)).toBe(1);
    expect(device.inflightUpdate).toBeNull();
    expect(device.history.at(-1)).toEqual({
      at: now + 31 * MINUTE + 1,
      event: 'expired',
      firmwareUuid: TARGET.uuid,
      status: 'received',
    });
  });

  it('firmware_validated marks the firmware validated', () => {
    const device = online('d1', joinParams(RUNNING, { meta: { firmware_validated: false } }));
    deviceMessage(hub, 'd1', 'firmware_validated', {}, now);
    expect(device.validation).toBe('validated');
    expect(events('d1').at(-1)).toBe('validated');
  });

  it('disconnect: the connection is disconnected, the record stays, and a late online does not revive it', () => {
    const device = online('d1');
    manualUpdate(hub, 'd1', TARGET, now);
    deviceDisconnected(hub, 'd1');
    deviceOnline(hub, 'd1', now);
    expect(device.connection).toBe('disconnected');
    expect(device.inflightUpdate).not.toBeNull();
  });

  it('the device page has ISO dates and the penalty flag on the given clock', () => {
    const device = online('d1');
    device.updatesBlockedUntil = now + MINUTE;
    const page = devicePage(device, now);
    expect(page).toMatchObject({
      identifier: 'd1',
      connected: true,
      updatesBlockedUntil: new Date(now + MINUTE).toISOString(),
      inPenaltyBox: true,
    });
    expect(devicePage(device, now + MINUTE).inPenaltyBox).toBe(false);
    expect(page.history[0]?.at).toBe(new Date(now).toISOString());
    expect(changes).toContain('d1');
  });
});
