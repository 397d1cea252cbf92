// The daemon over time: server restarts, a silent e2e.server, signals mid-update, a second instance, check.
import { readFileSync, writeFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { createDevice, runDaemon, startDaemon, statuses, useTestServer } from './support/harness.js';

const e2e = useTestServer('daemon-lifecycle-', ['small-signed.fw']);

describe('connection', () => {
  it('rejoins after the test-server restarts while idle', async () => {
    const device = await createDevice(e2e.server, e2e.root, 'restart-idle');
    const daemon = runDaemon(device);
    await e2e.server.waitForJoin(device.identifier);
    await e2e.server.restart();
    await e2e.server.waitForJoin(device.identifier, { count: 2, timeoutMs: 15_000 });
    daemon.child.kill('SIGTERM');
    expect((await daemon.exited).code).toBe(0);
  });

  it('finishes an update when the server restarts during the download', async () => {
    const device = await createDevice(e2e.server, e2e.root, 'restart-download');
    const daemon = runDaemon(device);
    await e2e.server.waitForJoin(device.identifier);
    e2e.server.sendUpdate(device.identifier, e2e.firmware('small-signed.fw').id, {
      fault: { kind: 'slow', bytesPerSecond: 200_000, times: 1 },
    });
    await e2e.server.waitForEvent(device.identifier, (event) => event.payload?.status === 'started');
    await e2e.server.restart();
    expect((await daemon.exited).code).toBe(0);
    expect(readFileSync(device.disk).length).toBe(262144);
    // The rejoin told the server which update was in flight.
    const rejoin = e2e.server.device(device.identifier).joins[1];
    expect(rejoin?.currently_downloading_uuid).toBe(e2e.firmware('small-signed.fw').meta.uuid);
  });

  it('reconnects when the server stops answering heartbeats', async () => {
    const device = await createDevice(e2e.server, e2e.root, 'silent-server');
    const daemon = runDaemon(device);
    await e2e.server.waitForJoin(device.identifier);
    e2e.server.setHeartbeatReplies(false);
    try {
      await daemon.waitForOutput(/heartbeat|disconnected/i, 10_000);
    } finally {
      e2e.server.setHeartbeatReplies(true);
    }
    await e2e.server.waitForJoin(device.identifier, { count: 2, timeoutMs: 15_000 });
    daemon.child.kill('SIGTERM');
    await daemon.exited;
  });
});

describe('signals', () => {
  it('SIGTERM during a download: stops, deletes the partial file, reports nothing; the next start takes the re-offer', async () => {
    const device = await createDevice(e2e.server, e2e.root, 'term-download');
    const daemon = runDaemon(device);
    await e2e.server.waitForJoin(device.identifier);
    const firmware = e2e.firmware('small-signed.fw');
    e2e.server.createDeployment({
      firmwareId: firmware.id,
      devices: [device.identifier],
      urlOptions: { fault: { kind: 'slow', bytesPerSecond: 50_000, times: 1 } },
    });
    await e2e.server.waitForEvent(device.identifier, (event) => event.payload?.status === 'started');
    await new Promise((resolve) => setTimeout(resolve, 300));
    daemon.child.kill('SIGTERM');
    expect((await daemon.exited).code).toBe(0);
    expect(device.downloads()).toEqual([]);
    expect(device.fwupRuns()).toEqual([]);
    // `failed` would put the device in the penalty box for a stop that was nobody's fault.
    expect(statuses(e2e.server, device.identifier)).toEqual(['received', 'started']);
    expect(daemon.output()).toMatch(/NervesHub will offer the update again/);
    expect(e2e.server.records(device.identifier)?.inPenaltyBox).toBe(false);

    // The next start joins without an in-flight uuid: NervesHub drops the stopped attempt's record and the
    // deployment offers the update again.
    const restarted = runDaemon(device);
    const join = await e2e.server.waitForJoin(device.identifier, { count: 2 });
    expect(join.currently_downloading_uuid).toBeNull();
    expect((await restarted.exited).code).toBe(0);
    expect(statuses(e2e.server, device.identifier).slice(2)).toEqual(['received', 'started', 'completed']);
    expect(readFileSync(device.disk).length).toBe(262144);
    const page = e2e.server.records(device.identifier);
    expect(page?.inPenaltyBox).toBe(false);
    expect(page?.updatesBlockedUntil).toBeNull();
  });

  it('SIGTERM during apply: waits for fwup to finish, never kills it', async () => {
    const device = await createDevice(e2e.server, e2e.root, 'term-apply');
    const daemon = runDaemon(device, { FAKE_FWUP_DELAY_MS: '60' });
    await e2e.server.waitForJoin(device.identifier);
    e2e.server.sendUpdate(device.identifier, e2e.firmware('small-signed.fw').id);
    await e2e.server.waitForEvent(
      device.identifier,
      (event) => event.event === 'fwup_progress' && event.payload.stage === 'updating',
    );
    daemon.child.kill('SIGTERM');
    expect((await daemon.exited).code).toBe(0);
    expect(daemon.output()).toMatch(/waiting for fwup/);
    expect(readFileSync(device.disk).length).toBe(262144);
    expect(statuses(e2e.server, device.identifier)).toContain('completed');
  });
});

describe('single instance and check', () => {
  it('refuses a second daemon on the same data_dir', async () => {
    const device = await createDevice(e2e.server, e2e.root, 'twice');
    const first = runDaemon(device);
    await e2e.server.waitForJoin(device.identifier);
    const second = runDaemon(device);
    const exit = await second.exited;
    expect(exit.code).not.toBe(0);
    expect(second.output()).toMatch(/another nerves-hub-link \(pid \d+\) is running/);
    first.child.kill('SIGTERM');
    expect((await first.exited).code).toBe(0);
  });

  it('check: validates everything, joins once, prints the join payload, exits 0', async () => {
    const device = await createDevice(e2e.server, e2e.root, 'checked');
    const check = startDaemon(['check', '--config', device.configFile]);
    expect((await check.exited).code).toBe(0);
    expect(check.output()).toMatch(/ok {3}certificate CN=checked, key matches/);
    expect(check.output()).toMatch(/ok {3}joined "device"/);
    expect(check.output()).toContain('"fwup_version": "1.16.0"');
  });

  it('check: fails with the reason when the server is not trusted', async () => {
    const device = await createDevice(e2e.server, e2e.root, 'untrusting');
    const config = readFileSync(device.configFile, 'utf8').replace(/ca_file = ".*"\n/, '');
    writeFileSync(device.configFile, config);
    const check = startDaemon(['check', '--config', device.configFile]);
    expect((await check.exited).code).toBe(69);
    expect(check.output()).toMatch(/not signed by a trusted CA/);
  });

  it('check: fails when the key does not belong to the certificate, naming auth.key_file, exit 78', async () => {
    const device = await createDevice(e2e.server, e2e.root, 'mismatched');
    const other = await e2e.server.issueDeviceCertificate('someone-else');
    const config = readFileSync(device.configFile, 'utf8').replace(
      /key_file = ".*"/,
      `key_file = "${other.keyFile}"`,
    );
    writeFileSync(device.configFile, config);
    const check = startDaemon(['check', '--config', device.configFile]);
    expect((await check.exited).code).toBe(78);
    expect(check.output()).toMatch(/does not belong to the certificate/);
  });
});
