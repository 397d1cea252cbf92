// The daemon over time: server restarts and a silent server (in the test process, on a clock the tests move: the
// reconnect backoff is over when the test says so), then, end to end with the bundle: signals mid-update, a second
// instance, check.
import { readFileSync, writeFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { createDevice, runDaemon, startDaemon, statuses, useTestServer } from './support/harness.js';
import { startJoinedDevice } from './support/joined-device.js';
import { until } from './support/output.js';

// Offers the orchestrator owes a device that joins go out at once (NervesHub's debounce is 3 s).
const e2e = useTestServer('daemon-lifecycle-', ['small-signed.fw'], { server: { orchestratorDelayMs: 50 } });

describe('connection', () => {
  it('rejoins after the test-server restarts while idle, once its backoff is over', async () => {
    const { device, daemon } = await startJoinedDevice(e2e, 'restart-idle');
    await e2e.server.restart();
    const backoff = await daemon.runTimer('the reconnect backoff');
    expect(backoff.delayMs).toBeGreaterThanOrEqual(1_000);
    expect(backoff.delayMs).toBeLessThanOrEqual(1_500);
    await e2e.server.waitForJoin(device.identifier, { count: 2 });
    daemon.stop();
    expect((await daemon.waitForExit()).code).toBe(0);
  });

  it('finishes an update when the server restarts during the download', async () => {
    const { device, daemon } = await startJoinedDevice(e2e, 'restart-download');
    e2e.server.sendUpdate(device.identifier, e2e.firmware('small-signed.fw').id, {
      fault: { kind: 'slow', bytesPerSecond: 200_000, times: 1 },
    });
    await e2e.server.waitForEvent(device.identifier, (event) => event.payload?.status === 'started');
    await e2e.server.restart();
    await daemon.runTimer('the reconnect backoff');
    expect((await daemon.waitForExit()).code).toBe(0);
    expect(readFileSync(device.disk).length).toBe(262144);
    // The rejoin told the server which update was in flight.
    const rejoin = e2e.server.device(device.identifier).joins[1];
    expect(rejoin?.currently_downloading_uuid).toBe(e2e.firmware('small-signed.fw').meta.uuid);
  });

  it('reconnects when the server stops answering heartbeats', async () => {
    const { device, daemon } = await startJoinedDevice(e2e, 'silent-server');
    e2e.server.setHeartbeatReplies(false);
    try {
      await daemon.waitForOutput(/heartbeat|disconnected/i, 10_000);
    } finally {
      e2e.server.setHeartbeatReplies(true);
    }
    await daemon.runTimer('the reconnect backoff');
    await e2e.server.waitForJoin(device.identifier, { count: 2 });
    daemon.stop();
    expect((await daemon.waitForExit()).code).toBe(0);
  });
});

describe('signals', () => {
  it('SIGTERM during a download: stops, deletes the partial file, reports nothing; the next start takes the re-offer', async () => {
    // The first download stops after 2000 bytes and would wait there (idle_timeout_ms) far longer than the test.
    const { device, daemon } = await startJoinedDevice(e2e, 'term-download', {
      process: true,
      settings: { download: { idle_timeout_ms: 60_000 } },
    });
    const firmware = e2e.firmware('small-signed.fw');
    const deployment = e2e.server.createDeployment({
      firmwareId: firmware.id,
      devices: [device.identifier],
      urlOptions: { fault: { kind: 'stall', atByte: 2000 } },
    });
    await e2e.server.waitForEvent(device.identifier, (event) => event.payload?.status === 'started');
    // The file exists from the first byte; what arrived is written in blocks of 256 KiB, so it may still be empty.
    const partial = await until('the partial download on disk', () => device.downloads()[0]);
    expect(partial).toMatch(/\.part$/);
    daemon.stop('SIGTERM');
    expect((await daemon.waitForExit()).code).toBe(0);
    expect(device.downloads()).toEqual([]);
    expect(device.fwupRuns()).toEqual([]);
    // `failed` would put the device in the penalty box for a stop that was nobody's fault.
    expect(statuses(e2e.server, device.identifier)).toEqual(['received', 'started']);
    expect(daemon.output()).toMatch(/NervesHub will offer the update again/);
    expect(e2e.server.records(device.identifier)?.inPenaltyBox).toBe(false);

    // The next start joins without an in-flight uuid: NervesHub drops the stopped attempt's record and the
    // deployment offers the update again, this time from a host that sends it all.
    e2e.server.updateDeployment(deployment.id, { urlOptions: {} });
    const restarted = runDaemon(device);
    const join2 = await e2e.server.waitForJoin(device.identifier, { count: 2 });
    expect(join2.currently_downloading_uuid).toBeNull();
    expect((await restarted.waitForExit()).code).toBe(0);
    expect(statuses(e2e.server, device.identifier).slice(2)).toEqual(['received', 'started', 'completed']);
    expect(readFileSync(device.disk).length).toBe(262144);
    const page = e2e.server.records(device.identifier);
    expect(page?.inPenaltyBox).toBe(false);
    expect(page?.updatesBlockedUntil).toBeNull();
  });

  it('SIGTERM during apply: waits for fwup to finish, never kills it', async () => {
    const { device, daemon } = await startJoinedDevice(e2e, 'term-apply', {
      process: true,
      fwupEnv: { FAKE_FWUP_DELAY_MS: '20' },
    });
    e2e.server.sendUpdate(device.identifier, e2e.firmware('small-signed.fw').id);
    await e2e.server.waitForEvent(
      device.identifier,
      (event) => event.event === 'fwup_progress' && event.payload.stage === 'updating',
    );
    daemon.stop('SIGTERM');
    expect((await daemon.waitForExit()).code).toBe(0);
    expect(daemon.output()).toMatch(/waiting for fwup/);
    expect(readFileSync(device.disk).length).toBe(262144);
    expect(statuses(e2e.server, device.identifier)).toContain('completed');
  });
});

describe('single instance and check', () => {
  it('refuses a second daemon on the same data_dir', async () => {
    const { device, daemon: first } = await startJoinedDevice(e2e, 'twice', { process: true });
    const second = runDaemon(device);
    const exit = await second.waitForExit();
    expect(exit.code).not.toBe(0);
    expect(second.output()).toMatch(/another nerves-hub-link \(pid \d+\) is running/);
    first.stop();
    expect((await first.waitForExit()).code).toBe(0);
  });

  it('check: validates everything, joins once, prints the join payload, exits 0', async () => {
    const device = await createDevice(e2e.server, e2e.root, 'checked');
    const check = startDaemon(['check', '--config', device.configFile]);
    expect((await check.waitForExit()).code).toBe(0);
    expect(check.output()).toMatch(/ok {3}certificate CN=checked, key matches/);
    expect(check.output()).toMatch(/ok {3}joined "device"/);
    expect(check.output()).toContain('"fwup_version": "1.16.0"');
  });

  it('check: fails with the reason when the server is not trusted', async () => {
    const device = await createDevice(e2e.server, e2e.root, 'untrusting');
    const config = readFileSync(device.configFile, 'utf8').replace(/ca_file = ".*"\n/, '');
    writeFileSync(device.configFile, config);
    const check = startDaemon(['check', '--config', device.configFile]);
    expect((await check.waitForExit()).code).toBe(69);
    expect(check.output()).toMatch(/not signed by a trusted CA/);
  });

  it('check: fails when the key does not belong to the certificate, naming auth.key_file, exit 78', async () => {
    const other = await e2e.server.issueDeviceCertificate('someone-else');
    const device = await createDevice(e2e.server, e2e.root, 'mismatched', {
      settings: { auth: { key_file: other.keyFile } },
    });
    const check = startDaemon(['check', '--config', device.configFile]);
    expect((await check.waitForExit()).code).toBe(78);
    expect(check.output()).toMatch(/does not belong to the certificate/);
  });
});
