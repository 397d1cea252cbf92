// The fake NervesHub's view of devices (the device page), driven by raw WebSocket devices over mTLS.
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { get } from 'node:https';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { smallFixtures } from '../src/fixtures/index.js';
import { type FirmwareFile, startTestServer, type TestServer } from '../src/index.js';
import { isUpdate, joinParams, RawDevice, RUNNING } from './support/raw-device.js';

const fixture = (name: string) => join(smallFixtures.dir, name);
const signingKey = readFileSync(fixture('fwup-key.pub'), 'utf8').trim();
const MINUTE = 60_000;

let server: TestServer;
let firmware: FirmwareFile;

/** GETs a firmware host URL (trusting the server CA) and counts the body's bytes. */
function downloadedBytes(url: string): Promise<number> {
  return new Promise((resolve, reject) => {
    get(url, { ca: server.ca.certPem }, (res) => {
      let bytes = 0;
      res.on('data', (chunk: Buffer) => {
        bytes += chunk.length;
      });
      res.on('end', () =>
        res.statusCode === 200 ? resolve(bytes) : reject(new Error(`HTTP ${res.statusCode}`)),
      );
    }).on('error', reject);
  });
}
const devices: RawDevice[] = [];
async function device(identifier: string, params = joinParams()): Promise<RawDevice> {
  const raw = await RawDevice.open(server, identifier);
  devices.push(raw);
  expect((await raw.join(params))[4]).toEqual({ status: 'ok', response: {} });
  return raw;
}

beforeAll(async () => {
  server = await startTestServer({ orchestratorDelayMs: 100, idleTimeoutMs: 60_000 });
  firmware = await server.addFirmware(fixture('small.fw'));
});
afterAll(async () => {
  for (const raw of devices) raw.close();
  await server?.close();
});

describe('manual push (sendUpdate)', () => {
  it('records a manual in-flight update, refuses a second push, follows statuses and the rejoin', async () => {
    const raw = await device('manual-1');
    expect(server.sendUpdate('manual-1', firmware.id)).toBe(true);
    const update = await raw.next(isUpdate);
    expect(update[4].deployment_id).toBeNull();
    expect(server.records('manual-1')).toMatchObject({
      updatesEnabled: false,
      inflightUpdate: { firmwareUuid: firmware.meta.uuid, deploymentId: null, status: 'requested' },
    });
    expect(server.sendUpdate('manual-1', firmware.id)).toBe(false);
    raw.send('status_update', { status: 'received' });
    raw.send('fwup_progress', { stage: 'downloading', value: 10 });
    const page = await server.waitForRecords('manual-1', (p) => p.inflightUpdate?.status === 'downloading');
    expect(page.inflightUpdate?.progress).toBe(10);
    expect(page.updateAttempts).toHaveLength(1);
    raw.send('status_update', { status: 'completed' });
    await server.waitForRecords('manual-1', (p) => p.inflightUpdate?.status === 'completed');
    raw.close();
    const again = await device('manual-1', joinParams(firmware.meta.uuid, { nerves_fw_version: '1.0.1' }));
    const updated = await server.waitForRecords('manual-1', (p) => p.inflightUpdate === null);
    expect(updated.firmware?.uuid).toBe(firmware.meta.uuid);
    expect(updated.history.at(-1)).toMatchObject({
      event: 'firmware-updated',
      from: RUNNING,
      to: firmware.meta.uuid,
    });
    expect(updated.updateAttempts).toEqual([]);
    // A manual push leaves automatic updates off, as on NervesHub.
    expect(updated.updatesEnabled).toBe(false);
    again.close();
  });

  it('is refused for a device NervesHub has never seen', async () => {
    expect(server.sendUpdate('nobody', firmware.id)).toBe(false);
    expect(server.records('nobody')).toBeUndefined();
  });

  it('to an offline device: recorded and updates turned off, though nobody hears it; the next join clears it', async () => {
    const raw = await device('offline-push');
    await raw.close();
    await server.waitForRecords('offline-push', (page) => page.connectionStatus === 'disconnected');
    expect(server.sendUpdate('offline-push', firmware.id)).toBe(true);
    expect(server.records('offline-push')).toMatchObject({
      updatesEnabled: false,
      inflightUpdate: { firmwareUuid: firmware.meta.uuid, deploymentId: null, status: 'requested' },
    });
    expect(
      server
        .records('offline-push')
        ?.history.map((entry) => entry.event)
        .slice(-2),
    ).toEqual(['updates-disabled', 'pushed']);
    expect(server.sendUpdate('offline-push', firmware.id)).toBe(false);
    const back = await device('offline-push');
    const page = await server.waitForRecords('offline-push', (p) => p.inflightUpdate === null);
    expect(page.updatesEnabled).toBe(false);
    expect(back.frames.some(isUpdate)).toBe(false);
  });
});

describe('signing keys and deployment offers', () => {
  it('pushes fwup_public_keys after the join reply and before the deployment offer', async () => {
    server.addSigningKey(signingKey);
    const deployment = server.createDeployment({ firmwareId: firmware.id, devices: ['keyed', 'keyless'] });
    const raw = await RawDevice.open(server, 'keyed');
    devices.push(raw);
    raw.send(
      'phx_join',
      joinParams(RUNNING, { fwup_public_keys: 'on_connect', archive_public_keys: 'on_connect' }),
    );
    const events = [
      (await raw.next())[3],
      (await raw.next())[3],
      (await raw.next())[3],
      (await raw.next())[3],
    ];
    expect(events).toEqual(['phx_reply', 'fwup_public_keys', 'archive_public_keys', 'update']);
    expect(raw.frames[1]![4]).toEqual({ keys: [signingKey] });
    expect(raw.frames[3]![4].deployment_id).toBe(deployment.id);
    expect(server.records('keyed')?.inflightUpdate).toMatchObject({
      deploymentId: deployment.id,
      status: 'requested',
    });

    const keyless = await device('keyless');
    await keyless.next(isUpdate);
    expect(keyless.frames.map((frame) => frame[3])).toEqual(['phx_reply', 'update']);
    server.updateDeployment(deployment.id, { isActive: false });
  });

  it('a failed deployment update puts the device in the penalty box until the clock passes it', async () => {
    const deployment = server.createDeployment({
      firmwareId: firmware.id,
      devices: ['penalized'],
      penaltyTimeoutMinutes: 30,
    });
    const raw = await device('penalized');
    await raw.next(isUpdate);
    raw.send('status_update', { status: 'received' });
    raw.send('status_update', { status: 'failed', reason: 'Download failed : boom' });
    const blocked = await server.waitForRecords('penalized', (p) => p.inPenaltyBox);
    expect(blocked.inflightUpdate).toBeNull();
    expect(Date.parse(blocked.updatesBlockedUntil!) - server.now()).toBeGreaterThan(29 * MINUTE);
    expect(blocked.history.at(-1)).toMatchObject({ event: 'failed', reason: 'Download failed : boom' });
    expect(server.runOrchestrator(deployment.id)).toEqual([]);
    server.advanceClock(30 * MINUTE + 1000);
    const offer = await raw.next(isUpdate);
    expect(offer[4].deployment_id).toBe(deployment.id);
    expect(server.records('penalized')?.inPenaltyBox).toBe(false);
    server.updateDeployment(deployment.id, { isActive: false });
  });

  it('attempts past the failure threshold block the device again; clearPenaltyBox lets it be offered', async () => {
    const deployment = server.createDeployment({
      firmwareId: firmware.id,
      devices: ['stubborn'],
      deviceFailureThreshold: 2,
      penaltyTimeoutMinutes: 1,
    });
    const raw = await device('stubborn');
    for (let attempt = 0; attempt < 2; attempt++) {
      await raw.next(isUpdate);
      raw.send('status_update', { status: 'received' });
      raw.send('status_update', { status: 'ignored', reason: '' });
      await server.waitForRecords('stubborn', (p) => p.inflightUpdate === null && p.inPenaltyBox);
      server.advanceClock(MINUTE + 1000);
    }
    const page = await server.waitForRecords('stubborn', (p) => p.history.at(-1)?.event === 'blocked');
    expect(page.history.at(-1)).toMatchObject({
      reason: 'exceeded failure threshold',
      attemptsCleared: false,
    });
    expect(page.updateAttempts).toHaveLength(2);
    expect(server.clearPenaltyBox('stubborn')).toBe(true);
    expect(server.runOrchestrator(deployment.id)).toEqual(['stubborn']);
    await raw.next(isUpdate);
    server.updateDeployment(deployment.id, { isActive: false });
  });

  it('an in-flight record untouched for 30 minutes expires and the update is offered again', async () => {
    const deployment = server.createDeployment({ firmwareId: firmware.id, devices: ['forgetful'] });
    const raw = await device('forgetful');
    await raw.next(isUpdate);
    raw.send('status_update', { status: 'received' });
    await server.waitForRecords('forgetful', (p) => p.inflightUpdate?.status === 'received');
    server.advanceClock(31 * MINUTE);
    await raw.next(isUpdate);
    const page = server.records('forgetful')!;
    expect(page.history.map((entry) => entry.event)).toContain('expired');
    expect(page.inflightUpdate).toMatchObject({ status: 'requested', deploymentId: deployment.id });
    server.updateDeployment(deployment.id, { isActive: false });
  });

  it('release network interfaces: only devices on a listed interface are offered', async () => {
    const deployment = server.createDeployment({
      firmwareId: firmware.id,
      devices: ['wired', 'wireless'],
      releaseNetworkInterfaces: ['ethernet'],
    });
    const wired = await device('wired');
    const wireless = await device('wireless');
    wired.send('report_network_interface', { interface: 'eth0' });
    wireless.send('report_network_interface', { interface: 'wlan0' });
    await server.waitForRecords('wired', (p) => p.networkInterface === 'ethernet');
    await server.waitForRecords('wireless', (p) => p.networkInterface === 'wifi');
    server.runOrchestrator(deployment.id);
    await wired.next(isUpdate);
    expect(server.records('wired')?.inflightUpdate?.deploymentId).toBe(deployment.id);
    expect(server.records('wireless')?.inflightUpdate).toBeNull();
    expect(wireless.frames.some(isUpdate)).toBe(false);
    server.updateDeployment(deployment.id, { isActive: false });
  });
});

describe('channel behaviour', () => {
  it('crashes on a non-integer fwup_progress value and a non-integer delay_for, keeping the records', async () => {
    const raw = await device('crashy');
    raw.send('fwup_progress', { stage: 'downloading', value: 'ten' });
    expect((await raw.next((f) => f[3] === 'phx_error'))[1]).toBe(raw.joinRef);
    expect(server.records('crashy')?.inflightUpdate).toBeNull();
    await raw.join(joinParams());
    raw.send('fwup_progress', { stage: 'downloading', value: '10' });
    await server.waitForRecords('crashy', (p) => p.inflightUpdate?.progress === 10);
    const before = server.records('crashy');
    raw.send('status_update', { status: 'rescheduled', delay_for: '1000' });
    await raw.next((f) => f[3] === 'phx_error');
    expect(server.records('crashy')).toEqual(before);
    expect(server.device('crashy').events.at(-1)).toMatchObject({ crashed: true });
  });

  it('crashes the join on a non-map meta; refuses joins with "could not connect" on request', async () => {
    const raw = await RawDevice.open(server, 'joiner');
    devices.push(raw);
    expect((await raw.join(joinParams(RUNNING, { meta: 'yes' })))[4]).toEqual({
      status: 'error',
      response: { reason: 'join crashed' },
    });
    server.refuseJoins(true);
    try {
      expect((await raw.join(joinParams()))[4]).toEqual({
        status: 'error',
        response: { error: 'could not connect' },
      });
    } finally {
      server.refuseJoins(false);
    }
    expect(server.device('joiner').joins).toEqual([]);
    expect(server.records('joiner')?.firmware).toBeNull();
    expect((await raw.join(joinParams()))[4].status).toBe('ok');
  });

  it('answers phx_leave with ok, then phx_close', async () => {
    const raw = await device('leaver');
    const ref = raw.send('phx_leave', {});
    expect(await raw.next()).toEqual([
      raw.joinRef,
      ref,
      'device',
      'phx_reply',
      { status: 'ok', response: {} },
    ]);
    expect(await raw.next()).toEqual([raw.joinRef, raw.joinRef, 'device', 'phx_close', {}]);
  });

  it('follows an upgrade redirect to the device socket', async () => {
    server.redirectUpgrades({ from: '/old/socket/websocket', to: '/socket/websocket' });
    try {
      const pair = await server.issueDeviceCertificate('redirected');
      const url = server.mtlsUrl.replace('/socket/websocket', '/old/socket/websocket?vsn=2.0.0');
      const tls = { ca: server.ca.certPem, cert: pair.certPem, key: pair.keyPem };
      const refused = new WebSocket(url, tls);
      refused.on('error', () => {});
      const [, response] = await once(refused, 'unexpected-response');
      expect(response.statusCode).toBe(302);
      expect(response.headers.location).toBe(`${server.mtlsUrl.replace('wss:', 'https:')}?vsn=2.0.0`);
      response.destroy();
      const raw = await RawDevice.open(server, 'redirected', '/old/socket/websocket?vsn=2.0.0', {
        followRedirects: true,
        maxRedirects: 2,
      });
      devices.push(raw);
      expect((await raw.join(joinParams()))[4].status).toBe('ok');
    } finally {
      server.redirectUpgrades(null);
    }
  });
});

describe('connection timing', () => {
  let quick: TestServer;
  beforeAll(async () => {
    quick = await startTestServer({ idleTimeoutMs: 300, duplicateCloseCode: 4000, orchestratorDelayMs: 400 });
    await quick.addFirmware(fixture('small.fw'));
  });
  afterAll(() => quick?.close());

  it('closes a socket that sends nothing for idleTimeoutMs with 1002; heartbeats keep it open', async () => {
    const silent = await RawDevice.open(quick, 'silent');
    const chatty = await RawDevice.open(quick, 'chatty');
    const beat = setInterval(() => chatty.send('heartbeat', {}, 'phoenix'), 100);
    try {
      const [code] = await once(silent.ws, 'close');
      expect(code).toBe(1002);
      expect(chatty.ws.readyState).toBe(WebSocket.OPEN);
    } finally {
      clearInterval(beat);
      chatty.close();
    }
  });

  it('closes the older socket of a device with duplicateCloseCode', async () => {
    const first = await RawDevice.open(quick, 'twice');
    const closed = once(first.ws, 'close');
    const second = await RawDevice.open(quick, 'twice');
    expect((await closed)[0]).toBe(4000);
    expect(quick.records('twice')?.connectionStatus).toBe('connecting');
    second.close();
  });

  it('debounces the orchestrator: a device online inside the window is offered at its end', async () => {
    const file = await quick.addFirmware(fixture('small.fw'));
    const raw = await RawDevice.open(quick, 'late');
    const beat = setInterval(() => raw.send('heartbeat', {}, 'phoenix'), 100);
    try {
      const started = Date.now();
      quick.createDeployment({ firmwareId: file.id, devices: ['late'] });
      await raw.join(joinParams());
      await raw.next(isUpdate);
      expect(Date.now() - started).toBeGreaterThanOrEqual(350);
    } finally {
      clearInterval(beat);
      raw.close();
    }
  });
});

describe('final statuses NervesHub has no in-flight record for', () => {
  let clocked: TestServer;
  let clock = Date.UTC(2026, 0, 1, 12);
  let file: FirmwareFile;
  const opened: RawDevice[] = [];
  beforeAll(async () => {
    clocked = await startTestServer({ now: () => clock, idleTimeoutMs: 60_000 });
    file = await clocked.addFirmware(fixture('small.fw'));
  });
  afterAll(async () => {
    await Promise.all(opened.map((raw) => raw.close()));
    await clocked?.close();
  });
  async function joined(identifier: string): Promise<RawDevice> {
    const raw = await RawDevice.open(clocked, identifier);
    opened.push(raw);
    await raw.join(joinParams());
    return raw;
  }

  for (const final of [
    { status: 'failed', reason: 'Download failed : gone' },
    { status: 'ignored', reason: 'not now' },
    { status: 'rescheduled', delay_for: 600_000, reason: 'outside the maintenance window' },
  ]) {
    it(`${final.status} with nothing in flight crashes the channel and records nothing`, async () => {
      const identifier = `orphan-${final.status}`;
      const raw = await joined(identifier);
      const before = clocked.records(identifier);
      raw.send('status_update', final);
      expect(await raw.next((frame) => frame[3] === 'phx_error')).toEqual([
        raw.joinRef,
        raw.joinRef,
        'device',
        'phx_error',
        { reason: 'channel_crash' },
      ]);
      expect(clocked.records(identifier)).toEqual(before);
      expect(clocked.device(identifier).events.at(-1)).toMatchObject({
        event: 'status_update',
        crashed: true,
      });
    });
  }

  it('a final status after the 30-minute expiry (server clock): phx_error, no attempt, no block, no audit line', async () => {
    const raw = await joined('late-final');
    expect(clocked.sendUpdate('late-final', file.id)).toBe(true);
    await raw.next(isUpdate);
    raw.send('status_update', { status: 'received' });
    const received = await clocked.waitForRecords(
      'late-final',
      (p) => p.inflightUpdate?.status === 'received',
    );
    expect(received.updateAttempts).toHaveLength(1);
    clock += 31 * MINUTE;
    expect(clocked.expireInflightUpdates()).toBe(1);
    const expired = clocked.records('late-final')!;
    expect(expired.inflightUpdate).toBeNull();
    raw.send('status_update', { status: 'failed', reason: 'Download failed : the network went away' });
    await raw.next((frame) => frame[3] === 'phx_error');
    const after = clocked.records('late-final')!;
    expect(after).toEqual(expired);
    expect(after.updateAttempts).toHaveLength(1);
    expect(after.history.map((entry) => entry.event)).not.toContain('failed');
    // The crash leaves the socket up: the device rejoins on it.
    expect((await raw.join(joinParams()))[4].status).toBe('ok');
  });

  it('the same status within the 30 minutes lands: the record is deleted and the failure on record', async () => {
    const raw = await joined('timely-final');
    clocked.sendUpdate('timely-final', file.id);
    await raw.next(isUpdate);
    raw.send('status_update', { status: 'received' });
    await clocked.waitForRecords('timely-final', (p) => p.inflightUpdate?.status === 'received');
    clock += 29 * MINUTE;
    expect(clocked.expireInflightUpdates()).toBe(0);
    raw.send('status_update', { status: 'failed', reason: 'Download failed : slow' });
    const page = await clocked.waitForRecords('timely-final', (p) => p.inflightUpdate === null);
    expect(page.history.at(-1)).toMatchObject({ event: 'failed', reason: 'Download failed : slow' });
    expect(raw.frames.some((frame) => frame[3] === 'phx_error')).toBe(false);
  });
});

describe('a version condition and a version that is not SemVer', () => {
  it('crashes the join ("join crashed") while the metadata written before it stays', async () => {
    const deployment = server.createDeployment({
      firmwareId: firmware.id,
      devices: ['loose-version'],
      versionCondition: '~> 1.0',
    });
    const raw = await RawDevice.open(server, 'loose-version');
    devices.push(raw);
    const reply = await raw.join(joinParams(RUNNING, { nerves_fw_version: '1.0' }));
    expect(reply[4]).toEqual({ status: 'error', response: { reason: 'join crashed' } });
    expect(server.device('loose-version').joins).toEqual([]);
    expect(server.records('loose-version')).toMatchObject({
      firmware: { version: '1.0' },
      deploymentId: null,
    });
    // Every rejoin crashes the same way. Even a corrected version under the same uuid does: a join with the uuid
    // on record keeps the metadata on record.
    expect((await raw.join(joinParams(RUNNING, { nerves_fw_version: '1.0' })))[4].status).toBe('error');
    expect((await raw.join(joinParams(RUNNING, { nerves_fw_version: '1.0.0' })))[4].status).toBe('error');
    const semver = await RawDevice.open(server, 'strict-version');
    devices.push(semver);
    server.updateDeployment(deployment.id, { devices: ['loose-version', 'strict-version'] });
    expect((await semver.join(joinParams(RUNNING, { nerves_fw_version: '1.2.0' })))[4].status).toBe('ok');
    expect(server.records('strict-version')?.deploymentId).toBe(deployment.id);
    server.updateDeployment(deployment.id, { isActive: false });
  });
});

describe('archive (DeviceLink.maybe_send_archive)', () => {
  it('is pushed after the join reply and the keys, before the offer, when the group has one', async () => {
    server.addSigningKey(signingKey);
    const archive = await server.addFirmware(fixture('small-signed.fw'));
    const deployment = server.createDeployment({
      firmwareId: firmware.id,
      archiveId: archive.id,
      devices: ['archived'],
    });
    expect(deployment.archiveId).toBe(archive.id);
    const raw = await RawDevice.open(server, 'archived');
    devices.push(raw);
    raw.send('phx_join', joinParams(RUNNING, { fwup_public_keys: 'on_connect' }));
    const events = [
      (await raw.next())[3],
      (await raw.next())[3],
      (await raw.next())[3],
      (await raw.next())[3],
    ];
    expect(events).toEqual(['phx_reply', 'fwup_public_keys', 'archive', 'update']);
    const pushed = raw.frames[2]!;
    expect(pushed.slice(0, 3)).toEqual([null, null, 'device']);
    expect(pushed[4]).toEqual({
      size: archive.size,
      uuid: archive.meta.uuid,
      version: archive.meta.version,
      description: archive.meta.description,
      platform: archive.meta.platform,
      architecture: archive.meta.architecture,
      uploaded_at: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d$/),
      url: expect.stringMatching(
        new RegExp(`^${server.url}/firmware/${archive.id}\\.fw\\?.*X-Amz-Signature=`),
      ),
    });
    expect(await downloadedBytes(String(pushed[4].url))).toBe(archive.size);
    server.updateDeployment(deployment.id, { isActive: false });
  });

  it('is not pushed to a device with updates off, nor to one whose device_api_version is below 2.0.0', async () => {
    const archive = await server.addFirmware(fixture('small-signed.fw'));
    const deployment = server.createDeployment({
      firmwareId: firmware.id,
      archiveId: archive.id,
      devices: ['archive-old-api', 'archive-disabled'],
      isActive: true,
    });
    const old = await device('archive-old-api', joinParams(RUNNING, { device_api_version: '1.9.0' }));
    const first = await device('archive-disabled');
    await first.next(isUpdate);
    await first.close();
    server.disableUpdates('archive-disabled');
    const disabled = await device('archive-disabled');
    await old.next(isUpdate);
    expect(old.frames.map((frame) => frame[3])).toEqual(['phx_reply', 'update']);
    expect(disabled.frames.map((frame) => frame[3])).toEqual(['phx_reply']);
    server.updateDeployment(deployment.id, { isActive: false });
  });

  it('a new release with an archive reaches joined members at once, with an audit line', async () => {
    const deployment = server.createDeployment({ firmwareId: firmware.id, devices: ['archive-later'] });
    const raw = await device('archive-later');
    await raw.next(isUpdate);
    const archive = await server.addFirmware(fixture('small-signed.fw'));
    server.updateDeployment(deployment.id, { archiveId: archive.id });
    expect((await raw.next((frame) => frame[3] === 'archive'))[4].uuid).toBe(archive.meta.uuid);
    const page = await server.waitForRecords(
      'archive-later',
      (p) => p.history.at(-1)?.event === 'archive-triggered',
    );
    expect(page.history.at(-1)).toMatchObject({ archiveUuid: archive.meta.uuid });
    server.updateDeployment(deployment.id, { isActive: false });
  });
});
