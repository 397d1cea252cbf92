// Firmware validation and the firmware history as NervesHub records them, driven by raw devices over mTLS: the
// device page's Firmware box and Firmware History tab, automatic offers held back from a firmware that is not
// validated, and the reason of an `ignored` after a rollback.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { abFixtures, buildFwArchive, formatMetaConf } from '../src/fixtures/index.js';
import { type FirmwareFile, startTestServer, type TestServer } from '../src/index.js';
import { type Frame, isUpdate, joinParams, RawDevice } from './support/raw-device.js';

const dir = mkdtempSync(join(tmpdir(), 'firmware-validation-'));
let server: TestServer;
/** Versions 1.0.0 and 2.0.0 of the A/B fixtures, and a 3.0.0 for the same board. */
let a: FirmwareFile;
let b: FirmwareFile;
let c: FirmwareFile;
const devices: RawDevice[] = [];

beforeAll(async () => {
  server = await startTestServer({ orchestratorDelayMs: 50, idleTimeoutMs: 60_000 });
  a = await server.addFirmware(abFixtures.v1Firmware);
  b = await server.addFirmware(abFixtures.v2Firmware);
  const v3 = join(dir, 'ab-v3.fw');
  const meta = {
    'meta-product': 'Acme Widget',
    'meta-version': '3.0.0',
    'meta-platform': 'acme-board',
    'meta-architecture': 'x86_64',
  };
  writeFileSync(v3, buildFwArchive({ metaConf: formatMetaConf({ meta, tasks: [] }), resources: [] }));
  c = await server.addFirmware(v3);
});
afterAll(async () => {
  for (const raw of devices) await raw.close();
  await server?.close();
  rmSync(dir, { recursive: true, force: true });
});

/** The join of a device running `firmware` with the given `meta` flags. */
function runningParams(firmware: FirmwareFile, meta: Record<string, unknown>) {
  return joinParams(firmware.meta.uuid, {
    nerves_fw_product: firmware.meta.product,
    nerves_fw_version: firmware.meta.version,
    nerves_fw_platform: firmware.meta.platform,
    nerves_fw_architecture: firmware.meta.architecture,
    meta,
  });
}

/** A new connection of `identifier` (a boot) that joins with `params`. */
async function boot(identifier: string, params: Record<string, unknown>): Promise<RawDevice> {
  const raw = await RawDevice.open(server, identifier);
  devices.push(raw);
  expect((await raw.join(params))[4]).toEqual({ status: 'ok', response: {} });
  return raw;
}

const offerOf = (firmware: FirmwareFile) => (frame: Frame) =>
  isUpdate(frame) && (frame[4].firmware_meta as { uuid: string }).uuid === firmware.meta.uuid;

const row = (firmware: FirmwareFile, label: string) =>
  expect.objectContaining({ firmware: expect.objectContaining({ uuid: firmware.meta.uuid }), label });

describe('firmware validation and the firmware history (device_firmwares)', () => {
  it('a row per reported firmware; not validated gets no automatic offer; firmware_validated, a revert, an ignored', async () => {
    const id = 'validation-cycle';
    const deployment = server.createDeployment({ firmwareId: b.id, devices: [id] });

    // On A, validated: one row, and B is offered.
    let raw = await boot(id, runningParams(a, { firmware_validated: true }));
    await raw.next(offerOf(b));
    let page = server.records(id)!;
    expect(page.firmwareValidation).toBe('validated');
    expect(page.firmwareStatus).toEqual(['Validated']);
    expect(page.firmwareHistory).toEqual([
      {
        firmware: {
          uuid: a.meta.uuid,
          version: '1.0.0',
          product: 'Acme Widget',
          platform: 'acme-board',
          architecture: 'x86_64',
        },
        firmwareId: a.id,
        validation: 'validated',
        autoRevertDetected: false,
        label: 'Validated',
        insertedAt: expect.any(String),
      },
    ]);
    raw.send('status_update', { status: 'received' });
    await server.waitForRecords(id, (each) => each.inflightUpdate?.status === 'received');
    await raw.close();

    // Booted into B, not validated yet: a second row; the device is not validated.
    raw = await boot(id, runningParams(b, { firmware_validated: false }));
    page = await server.waitForRecords(id, (each) => each.inflightUpdate === null);
    expect(page.firmwareValidation).toBe('not_validated');
    expect(page.firmwareStatus).toEqual(['Not validated']);
    expect(page.firmwareHistory).toEqual([row(b, 'Not validated'), row(a, 'Validated')]);
    expect(page.firmwareHistory[0]?.firmwareId).toBe(b.id);

    // A new release while B is not validated: the orchestrator passes the device by.
    server.updateDeployment(deployment.id, { firmwareId: c.id });
    expect(server.runOrchestrator(deployment.id)).toEqual([]);
    expect(server.records(id)?.inflightUpdate).toBeNull();

    // Validated: the device and B's row; the next run offers C.
    raw.send('firmware_validated', {});
    page = await server.waitForRecords(id, (each) => each.firmwareValidation === 'validated');
    expect(page.firmwareStatus).toEqual(['Validated']);
    expect(page.firmwareHistory).toEqual([row(b, 'Validated'), row(a, 'Validated')]);
    expect(page.history.at(-1)).toMatchObject({ event: 'validated' });
    // Nothing wakes the orchestrator on a validation; this run (or the one the release scheduled, if it comes
    // later) offers C.
    server.runOrchestrator(deployment.id);
    await raw.next(offerOf(c));
    await raw.close();

    // Back on A after a revert, and the operator releases B again: a third row, "Revert detected"; the offer of
    // B is ignored with the reason the device gives.
    server.updateDeployment(deployment.id, { firmwareId: b.id });
    raw = await boot(id, runningParams(a, { firmware_validated: true, firmware_auto_revert_detected: true }));
    page = await server.waitForRecords(id, (each) => each.firmwareHistory.length === 3);
    expect(page.firmwareAutoRevertDetected).toBe(true);
    expect(page.firmwareStatus).toEqual(['Revert detected']);
    expect(page.firmwareHistory).toEqual([
      row(a, 'Revert detected'),
      row(b, 'Validated'),
      row(a, 'Validated'),
    ]);
    expect(page.firmwareHistory[2]?.autoRevertDetected).toBe(false);
    await raw.next(offerOf(b));
    const reason =
      `firmware ${b.meta.uuid.slice(0, 4)}… (2.0.0) was rolled back on 2026-12-07 15:40 UTC: ` +
      'it did not reach NervesHub within 10m';
    raw.send('status_update', { status: 'received' });
    raw.send('status_update', { status: 'ignored', reason });
    page = await server.waitForRecords(id, (each) => each.lastUpdateOutcome !== null);
    expect(page.lastUpdateOutcome).toEqual({ status: 'ignored', reason, at: expect.any(String) });
    expect(page.history.at(-1)).toMatchObject({ event: 'ignored', reason });
    expect(page.inPenaltyBox).toBe(true);
    server.updateDeployment(deployment.id, { isActive: false });
  });

  it('a manual push still reaches a device whose firmware is not validated', async () => {
    const id = 'unvalidated-push';
    const deployment = server.createDeployment({ firmwareId: b.id, devices: [id] });
    const raw = await boot(id, runningParams(a, { firmware_validated: false }));
    expect(server.runOrchestrator(deployment.id)).toEqual([]);
    expect(server.sendUpdate(id, c.id)).toBe(true);
    const offer = await raw.next(offerOf(c));
    expect(offer[4].deployment_id).toBeNull();
    expect(server.records(id)).toMatchObject({
      firmwareValidation: 'not_validated',
      inflightUpdate: { firmwareUuid: c.meta.uuid, deploymentId: null, status: 'requested' },
    });
    server.updateDeployment(deployment.id, { isActive: false });
  });

  it('a device whose joins had no firmware metadata: no row, and firmware_validated crashes the channel', async () => {
    const id = 'no-metadata';
    const raw = await boot(id, { device_api_version: '2.0.0', meta: { firmware_validated: false } });
    const before = await server.waitForRecords(id, (each) => each.connectionStatus === 'connected');
    expect(before).toMatchObject({
      firmware: null,
      firmwareValidation: 'not_validated',
      firmwareStatus: ['Not validated'],
      firmwareHistory: [],
    });
    raw.send('firmware_validated', {});
    expect((await raw.next((frame) => frame[3] === 'phx_error'))[4]).toEqual({ reason: 'channel_crash' });
    expect(server.records(id)).toEqual(before);
    expect(server.device(id).events.at(-1)).toMatchObject({ event: 'firmware_validated', crashed: true });
    // A join with metadata writes the first row; then firmware_validated lands.
    expect((await raw.join(runningParams(a, { firmware_validated: false })))[4].status).toBe('ok');
    raw.send('firmware_validated', {});
    const page = await server.waitForRecords(id, (each) => each.firmwareValidation === 'validated');
    expect(page.firmwareHistory).toEqual([row(a, 'Validated')]);
  });
});
