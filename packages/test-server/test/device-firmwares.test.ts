// NervesHub's firmware validation records and firmware history, rule by rule, on an injected clock.
import { beforeEach, describe, expect, it } from 'vitest';
import { deviceConnecting, deviceOnline } from '../src/hub/connection.js';
import { createDeploymentGroup } from '../src/hub/deployments.js';
import { deviceMessage, statusUpdate } from '../src/hub/device-messages.js';
import { devicePage, firmwareStatusLabels } from '../src/hub/device-page.js';
import { createHub, deviceState } from '../src/hub/hub.js';
import { deviceJoin } from '../src/hub/join.js';
import { triggerUpdate } from '../src/hub/orchestrator.js';
import type { Hub, ReleaseFirmware } from '../src/hub/types.js';
import { manualUpdate } from '../src/hub/user-actions.js';

const MINUTE = 60_000;
const release = (id: string, uuid: string, version: string): ReleaseFirmware => ({
  id,
  uuid,
  version,
  product: 'Acme Widget',
  platform: 'acme-board',
  architecture: 'x86_64',
});
/** Known to the server (uploaded): A and B. C is what a deployment releases later. */
const A = release('a-file', '002b2a90-00ba-55a1-0d52-88211ea560c8', '1.0.0');
const B = release('b-file', 'b1d19973-8f5e-587e-36f6-b6b3c2eedc66', '2.0.0');
const C = release('c-file', 'cccccccc-0000-4000-8000-000000000003', '3.0.0');
/** Reported by devices, never uploaded. */
const UNKNOWN = 'dddddddd-0000-4000-8000-000000000004';

let hub: Hub;
let now: number;

beforeEach(() => {
  now = Date.UTC(2026, 11, 7, 15, 0);
  const known = new Map([A, B, C].map((firmware) => [firmware.uuid, firmware]));
  hub = createHub({ firmwareByUuid: (uuid) => known.get(uuid) });
});

function joinParams(uuid: string, meta: Record<string, unknown>, version = '1.0.0'): Record<string, unknown> {
  return {
    nerves_fw_uuid: uuid,
    nerves_fw_product: 'Acme Widget',
    nerves_fw_version: version,
    nerves_fw_platform: 'acme-board',
    nerves_fw_architecture: 'x86_64',
    device_api_version: '2.0.0',
    currently_downloading_uuid: null,
    meta,
  };
}
const on = (firmware: ReleaseFirmware, meta: Record<string, unknown>) =>
  joinParams(firmware.uuid, meta, firmware.version);

/** A device connected, joined and online, as after a real join. */
function online(identifier: string, params: Record<string, unknown>) {
  deviceConnecting(hub, identifier, now);
  expect(deviceJoin(hub, identifier, params, now)).toEqual({ status: 'ok' });
  deviceOnline(hub, identifier, now);
  return deviceState(hub, identifier);
}

const metadataOf = ({ uuid, version, product, platform, architecture }: ReleaseFirmware) => ({
  uuid,
  version,
  product,
  platform,
  architecture,
});

describe('the firmware history (Devices.update_firmware_metadata, DeviceFirmwares)', () => {
  it('a first join writes a row, current, with the join validation status, the flag and the known firmware', () => {
    const device = online('d1', on(A, { firmware_validated: true }));
    expect(device.firmwareHistory).toEqual([
      {
        id: 1,
        metadata: metadataOf(A),
        firmwareId: A.id,
        validation: 'validated',
        autoRevertDetected: false,
        insertedAt: now,
      },
    ]);
    expect(device.currentDeviceFirmwareId).toBe(1);
    // A firmware the product does not have: no firmware_id ("Firmware unrecognized").
    const stranger = online('d2', joinParams(UNKNOWN, { firmware_validated: false }));
    expect(stranger.firmwareHistory).toMatchObject([{ firmwareId: null, validation: 'not_validated' }]);
  });

  it('a rejoin with the same firmware updates the current row in place: status and flag, nothing else', () => {
    const device = online('d1', on(A, { firmware_validated: true }));
    now += MINUTE;
    deviceJoin(hub, 'd1', on(A, { firmware_validated: false, firmware_auto_revert_detected: true }), now);
    expect(device.firmwareHistory).toHaveLength(1);
    expect(device.firmwareHistory[0]).toMatchObject({
      validation: 'not_validated',
      autoRevertDetected: true,
      insertedAt: now - MINUTE,
    });
    expect(device.validation).toBe('not_validated');
    expect(device.autoRevertDetected).toBe(true);
    deviceJoin(hub, 'd1', on(A, {}), now);
    expect(device.firmwareHistory[0]).toMatchObject({ validation: 'unknown', autoRevertDetected: false });
  });

  it('another firmware gets a new row, which becomes current; the older rows stay as they were', () => {
    const device = online('d1', on(A, { firmware_validated: true }));
    now += MINUTE;
    deviceJoin(hub, 'd1', on(B, { firmware_validated: false }), now);
    expect(device.firmwareHistory.map((row) => [row.metadata.uuid, row.validation])).toEqual([
      [A.uuid, 'validated'],
      [B.uuid, 'not_validated'],
    ]);
    expect(device.currentDeviceFirmwareId).toBe(device.firmwareHistory[1]!.id);
    expect(device.validation).toBe('not_validated');
  });

  it('back on a firmware the history already holds (add_reported_firmware): a new row, not the old one', () => {
    const device = online('d1', on(A, { firmware_validated: true }));
    now += MINUTE;
    deviceJoin(hub, 'd1', on(B, { firmware_validated: false }), now);
    now += MINUTE;
    deviceJoin(hub, 'd1', on(A, { firmware_validated: true, firmware_auto_revert_detected: true }), now);
    expect(device.firmwareHistory.map((row) => [row.metadata.uuid, row.autoRevertDetected])).toEqual([
      [A.uuid, false],
      [B.uuid, false],
      [A.uuid, true],
    ]);
    expect(device.currentDeviceFirmwareId).toBe(3);
    expect(device.history.at(-1)).toMatchObject({ event: 'firmware-updated', from: B.uuid, to: A.uuid });
  });

  it('no usable metadata while some is on record: the current row is updated in place', () => {
    const device = online('d1', on(A, { firmware_validated: true }));
    deviceJoin(hub, 'd1', { meta: { firmware_validated: false } }, now);
    expect(device.firmwareHistory).toMatchObject([
      { metadata: { uuid: A.uuid }, validation: 'not_validated' },
    ]);
    expect(device.firmware?.uuid).toBe(A.uuid);
  });

  it('a device whose first join had no usable metadata: no row, only the device values, until a report comes', () => {
    const device = online('bare', { device_api_version: '2.0.0', meta: { firmware_validated: false } });
    expect(device.firmwareHistory).toEqual([]);
    expect(device.currentDeviceFirmwareId).toBeNull();
    expect(device.validation).toBe('not_validated');
    deviceJoin(hub, 'bare', { meta: { firmware_validated: true, firmware_auto_revert_detected: true } }, now);
    expect(device).toMatchObject({ firmwareHistory: [], validation: 'validated', autoRevertDetected: true });
    deviceJoin(hub, 'bare', on(A, { firmware_validated: false }), now);
    expect(device.firmwareHistory).toMatchObject([
      { metadata: { uuid: A.uuid }, validation: 'not_validated' },
    ]);
    expect(device.currentDeviceFirmwareId).toBe(device.firmwareHistory[0]!.id);
  });

  it('an auto-revert flag Ecto cannot cast: refused where a changeset casts it, a crash where update_all does', () => {
    const bare = online('bare', { device_api_version: '2.0.0' });
    const bad = { firmware_auto_revert_detected: 'maybe' };
    expect(deviceJoin(hub, 'bare', { meta: bad }, now).status).toBe('error');
    const device = online('d1', on(A, { firmware_validated: true }));
    const snapshot = structuredClone(device);
    // A new firmware: DeviceFirmware.create_changeset refuses it.
    expect(deviceJoin(hub, 'd1', on(B, bad), now).status).toBe('error');
    // The firmware on record, or no usable metadata: Repo.update_all raises on it.
    expect(deviceJoin(hub, 'd1', on(A, bad), now).status).toBe('crashed');
    expect(deviceJoin(hub, 'd1', { meta: bad }, now).status).toBe('crashed');
    expect(device).toEqual(snapshot);
    expect(bare.firmwareHistory).toEqual([]);
    // Ecto's boolean cast takes "true".
    deviceJoin(hub, 'd1', on(A, { firmware_auto_revert_detected: 'true' }), now);
    expect(device.firmwareHistory[0]?.autoRevertDetected).toBe(true);
  });
});

describe('firmware_validated (Updates.firmware_validated)', () => {
  it('marks the device and its current row validated; older rows and the auto-revert flag stay', () => {
    const device = online('d1', on(A, { firmware_validated: false }));
    deviceJoin(hub, 'd1', on(B, { firmware_validated: false, firmware_auto_revert_detected: true }), now);
    now += MINUTE;
    expect(deviceMessage(hub, 'd1', 'firmware_validated', {}, now)).toEqual({ crashed: false });
    expect(device.validation).toBe('validated');
    expect(device.autoRevertDetected).toBe(true);
    expect(device.firmwareHistory.map((row) => row.validation)).toEqual(['not_validated', 'validated']);
    expect(device.history.at(-1)).toEqual({ at: now, event: 'validated' });
  });

  it('on a device with no row (no metadata ever): the update has no primary key, the channel crashes, nothing changes', () => {
    const device = online('bare', { device_api_version: '2.0.0', meta: { firmware_validated: false } });
    const snapshot = structuredClone(device);
    const outcome = deviceMessage(hub, 'bare', 'firmware_validated', {}, now);
    expect(outcome.crashed).toBe(true);
    expect(device).toEqual(snapshot);
    expect(device.validation).toBe('not_validated');
  });
});

describe('validation and offers (Updates.build_available_devices_query line 118)', () => {
  it('no automatic offer to a not_validated device until firmware_validated; a manual push reaches it', () => {
    const group = createDeploymentGroup(hub, C, { devices: ['waiting', 'pushed', 'silent'] }, now);
    online('waiting', on(B, { firmware_validated: false }));
    online('pushed', on(B, { firmware_validated: false }));
    // Unknown (a device that does not say) is offered.
    online('silent', on(B, {}));
    expect(triggerUpdate(hub, group.id, now).offers.map((offer) => offer.identifier)).toEqual(['silent']);
    expect(manualUpdate(hub, 'pushed', C, now)).toMatchObject({
      ok: true,
      offer: { identifier: 'pushed', deploymentId: null, firmwareId: C.id, updateAvailable: true },
    });
    deviceMessage(hub, 'waiting', 'firmware_validated', {}, now);
    expect(triggerUpdate(hub, group.id, now).offers.map((offer) => offer.identifier)).toEqual(['waiting']);
  });
});

describe('the device page', () => {
  it('the header box says what show.html.heex says; none while the validation is unknown and nothing reverted', () => {
    expect(firmwareStatusLabels('validated', false)).toEqual(['Validated']);
    expect(firmwareStatusLabels('not_validated', false)).toEqual(['Not validated']);
    expect(firmwareStatusLabels('unknown', false)).toEqual([]);
    expect(firmwareStatusLabels('validated', true)).toEqual(['Revert detected']);
    expect(firmwareStatusLabels('not_validated', true)).toEqual(['Not validated', 'Revert detected']);
    expect(firmwareStatusLabels('unknown', true)).toEqual(['Revert detected']);
  });

  it('the Firmware History tab, newest first, each row with its label and date', () => {
    const device = online('d1', joinParams(UNKNOWN, {}));
    now += MINUTE;
    deviceJoin(hub, 'd1', on(B, { firmware_validated: false }), now);
    now += MINUTE;
    deviceJoin(hub, 'd1', on(A, { firmware_validated: true, firmware_auto_revert_detected: true }), now);
    const page = devicePage(device, now);
    expect(page.firmwareStatus).toEqual(['Revert detected']);
    expect(page.firmwareAutoRevertDetected).toBe(true);
    expect(page.firmwareHistory).toEqual([
      {
        firmware: metadataOf(A),
        firmwareId: A.id,
        validation: 'validated',
        autoRevertDetected: true,
        label: 'Revert detected',
        insertedAt: new Date(now).toISOString(),
      },
      expect.objectContaining({ firmwareId: B.id, label: 'Not validated' }),
      expect.objectContaining({ firmwareId: null, label: 'Unknown validation status' }),
    ]);
  });

  it('the last failed, ignored or rescheduled with its reason', () => {
    const group = createDeploymentGroup(hub, B, { devices: ['d1'] }, now);
    const device = online('d1', on(A, { firmware_validated: true, firmware_auto_revert_detected: true }));
    expect(devicePage(device, now).lastUpdateOutcome).toBeNull();
    expect(triggerUpdate(hub, group.id, now).offers).toHaveLength(1);
    const reason =
      'firmware b1d19973… (2.0.0) was rolled back on 2026-12-07 15:40 UTC: it did not reach NervesHub within 10m';
    statusUpdate(hub, 'd1', { status: 'received' }, now);
    now += 1000;
    statusUpdate(hub, 'd1', { status: 'ignored', reason }, now);
    const page = devicePage(device, now);
    expect(page.lastUpdateOutcome).toEqual({ status: 'ignored', reason, at: new Date(now).toISOString() });
    expect(page.history.at(-1)).toMatchObject({ event: 'ignored', reason });
    expect(page.inPenaltyBox).toBe(true);
    expect(page.inflightUpdate).toBeNull();
  });
});

describe('the reason of a final status (DeviceTemplates.truncate_reason)', () => {
  it('anything but a string or null crashes the channel and records nothing', () => {
    const device = online('d1', on(A, { firmware_validated: true }));
    for (const [status, extra] of [
      ['ignored', {}],
      ['failed', {}],
      ['rescheduled', { delay_for: 60_000 }],
    ] as const) {
      manualUpdate(hub, 'd1', B, now);
      statusUpdate(hub, 'd1', { status: 'received' }, now);
      const snapshot = structuredClone(device);
      for (const reason of [42, { why: 'x' }, false]) {
        const outcome = statusUpdate(hub, 'd1', { status, reason, ...extra }, now);
        expect(outcome, `${status} ${JSON.stringify(reason)}`).toMatchObject({ crashed: true });
        expect(device).toEqual(snapshot);
      }
      expect(statusUpdate(hub, 'd1', { status, reason: null, ...extra }, now)).toEqual({ crashed: false });
      expect(device.history.at(-1)).toMatchObject({ event: status, reason: null });
    }
    // A status that is not final keeps no reason: any value goes.
    manualUpdate(hub, 'd1', B, now);
    expect(statusUpdate(hub, 'd1', { status: 'received', reason: 42 }, now)).toEqual({ crashed: false });
  });
});
