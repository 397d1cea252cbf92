// Download faults and firmware fwup refuses, with the daemon in the test process (support/in-process.ts): the
// downloads, their retries and fwup are real; the reconnect backoff waits on a clock the tests move.
import type { FirmwareFault } from '@nerves-hub-link/test-server';
import { describe, expect, it } from 'vitest';
import { statuses, useTestServer } from './support/harness.js';
import { startJoinedDevice } from './support/joined-device.js';

const e2e = useTestServer('daemon-failures-', ['small-signed.fw', 'small-signed-tampered.fw']);

/** Each fault, the reason it ends with, and the waits before another attempt it causes (max_attempts = 2). */
const cases: [string, FirmwareFault, RegExp, number][] = [
  ['a 404', { kind: 'status', status: 404 }, /^Download failed : .*HTTP 404/, 0],
  ['a body that is always corrupt', { kind: 'corrupt', atByte: 500 }, /^Download failed : .*SHA-256/, 1],
  ['a connection that always drops', { kind: 'drop', atByte: 2000 }, /^Download failed : /, 1],
  ['a stalled body', { kind: 'stall', atByte: 2000 }, /^Download failed : .*no data/, 1],
  ['a wrong Content-Length', { kind: 'wrong-length', contentLength: 300_000 }, /^Download failed : /, 1],
  ['a redirect loop', { kind: 'redirect-loop' }, /^Download failed : .*redirect loop/, 0],
  ['a server error that persists', { kind: 'status', status: 500 }, /^Download failed : .*HTTP 500/, 1],
];

/** Each fault that passes, and the delay of the one wait before the attempt that gets through (none: 0). */
const recovered: [string, FirmwareFault, (delayMs: number) => boolean][] = [
  ['a dropped connection', { kind: 'drop', atByte: 50_000, times: 1 }, backoff],
  [
    'a 503 with Retry-After',
    { kind: 'status', status: 503, retryAfterSeconds: 1, times: 1 },
    (delayMs) => delayMs === 1_000,
  ],
  ['a corrupt byte', { kind: 'corrupt', atByte: 70_000, times: 1 }, backoff],
  ['a redirect chain', { kind: 'redirects', count: 3 }, none],
  ['a slow drip', { kind: 'slow', bytesPerSecond: 300_000 }, none],
];

/** The first wait of the download's backoff: 1 s, up to 50 % longer. */
function backoff(delayMs: number): boolean {
  return delayMs >= 1_000 && delayMs <= 1_500;
}

function none(): boolean {
  return false;
}

const failedEvent = (identifier: string, timeoutMs = 15_000) =>
  e2e.server.waitForEvent(identifier, (event) => event.payload?.status === 'failed', { timeoutMs });

describe('download failures', () => {
  for (const [label, fault, reason, waits] of cases) {
    it(`${label}: failed with a reason, nothing applied, nothing left, still connected`, async () => {
      const { device, daemon } = await startJoinedDevice(e2e, `fail-${label.replace(/\W+/g, '-')}`, {
        settings: { download: { max_attempts: 2 } },
      });
      e2e.server.sendUpdate(device.identifier, e2e.firmware('small-signed.fw').id, { fault });
      for (let wait = 1; wait <= waits; wait++) {
        await daemon.runTimer(`the wait before download attempt ${wait + 1}`, (timer) =>
          backoff(timer.delayMs),
        );
      }
      const failed = await failedEvent(device.identifier);
      expect(daemon.clock.pending()).toEqual([]);
      expect(failed.payload.reason).toMatch(reason);
      expect(failed.payload.reason).not.toContain('X-Amz');
      expect(device.fwupRuns()).toEqual([]);
      expect(device.downloads()).toEqual([]);
      expect(e2e.server.device(device.identifier).connected).toBe(true);
      daemon.stop();
      expect((await daemon.waitForExit()).code).toBe(0);
    });
  }

  for (const [label, fault, retryWait] of recovered) {
    it(`${label}: recovered, applied, completed, with started for every connection`, async () => {
      const { device, daemon } = await startJoinedDevice(e2e, `recover-${label.replace(/\W+/g, '-')}`);
      const requestsBefore = e2e.server.firmwareRequests.length;
      e2e.server.sendUpdate(device.identifier, e2e.firmware('small-signed.fw').id, { fault });
      if (retryWait !== none) {
        await daemon.runTimer('the wait before the next download attempt', (timer) =>
          retryWait(timer.delayMs),
        );
      }
      expect((await daemon.waitForExit()).code).toBe(0);
      const connections = e2e.server.firmwareRequests.length - requestsBefore;
      expect(statuses(e2e.server, device.identifier)).toEqual([
        'received',
        ...Array<string>(connections).fill('started'),
        'completed',
      ]);
      expect(device.fwupRuns().filter((argv) => argv.includes('-a'))).toHaveLength(1);
    });
  }

  it('a firmware larger than the free space fails before a byte is written', async () => {
    const { device, daemon } = await startJoinedDevice(e2e, 'full-disk');
    const payload = e2e.server.firmwareHost.updatePayload(e2e.server.url, e2e.firmware('small-signed.fw').id);
    payload.size = 2 ** 52;
    e2e.server.push(device.identifier, 'update', payload);
    const failed = await failedEvent(device.identifier);
    expect(failed.payload.reason).toMatch(/^Download failed : not enough free space/);
    expect(device.downloads()).toEqual([]);
    daemon.stop();
    expect((await daemon.waitForExit()).code).toBe(0);
  });

  it('a refused firmware URL (403): failed, naming the status and the URL without its query; no rejoin', async () => {
    const { device, daemon } = await startJoinedDevice(e2e, 'refused-url');
    const firmware = e2e.firmware('small-signed.fw');
    e2e.server.sendUpdate(device.identifier, firmware.id, { fault: { kind: 'expired' } });
    const failed = await failedEvent(device.identifier);
    expect(failed.payload.reason).toMatch(
      /^Download failed : the firmware host refused the URL with HTTP 403/,
    );
    expect(failed.payload.reason).toContain(`${e2e.server.url}/firmware/${firmware.id}.fw`);
    expect(failed.payload.reason).not.toMatch(/X-Amz|\?/);
    expect(statuses(e2e.server, device.identifier)).toEqual(['received', 'started', 'failed']);
    // No rejoin: the server's reboot request gets `rebooting` back on the first join, after whatever the daemon
    // sent since the failure.
    expect(daemon.clock.pending()).toEqual([]);
    e2e.server.push(device.identifier, 'reboot', {});
    expect((await daemon.waitForExit()).code).toBe(0);
    expect(e2e.server.device(device.identifier).events.at(-1)?.event).toBe('rebooting');
    expect(e2e.server.device(device.identifier).joins).toHaveLength(1);
  });

  it('a final status made while disconnected: the rejoin names the update, then the status lands', async () => {
    const { device, daemon } = await startJoinedDevice(e2e, 'late-status', {
      settings: { download: { max_attempts: 1 } },
    });
    const firmware = e2e.firmware('small-signed.fw');
    e2e.server.sendUpdate(device.identifier, firmware.id, { fault: { kind: 'stall', atByte: 2000 } });
    await e2e.server.waitForEvent(device.identifier, (event) => event.payload?.status === 'started');
    e2e.server.refuseUpgrades(503);
    e2e.server.kick(device.identifier);
    try {
      // The device tries to get back in and is refused; the stalled download gives up (idle_timeout_ms = 1000)
      // meanwhile.
      await daemon.runTimer('the reconnect backoff');
      await daemon.waitForOutput(/connection problem: .*503/);
      await daemon.waitForOutput(/update \S+ failed: Download failed/);
    } finally {
      e2e.server.refuseUpgrades(null);
    }
    await daemon.runTimer('the reconnect backoff after the refusal');
    const rejoin = await e2e.server.waitForJoin(device.identifier, { count: 2 });
    expect(rejoin.currently_downloading_uuid).toBe(firmware.meta.uuid);
    const failed = await failedEvent(device.identifier);
    expect(failed.payload.reason).toMatch(/^Download failed : /);
    // It landed on the update's own record: one attempt (for `received`), no empty record counting another.
    const page = await e2e.server.waitForRecords(device.identifier, (each) => each.inflightUpdate === null);
    expect(page.updateAttempts).toHaveLength(1);
    // It has left (the server has it): the next join names nothing.
    e2e.server.kick(device.identifier);
    await daemon.runTimer('the reconnect backoff');
    const third = await e2e.server.waitForJoin(device.identifier, { count: 3 });
    expect(third.currently_downloading_uuid).toBeNull();
    daemon.stop();
    expect((await daemon.waitForExit()).code).toBe(0);
  });
});

describe('firmware that fwup refuses', () => {
  it('a tampered signed archive is stopped by fwup -V before the device is written', async () => {
    const { device, daemon } = await startJoinedDevice(e2e, 'verify-fails');
    e2e.server.sendUpdate(device.identifier, e2e.firmware('small-signed-tampered.fw').id);
    const failed = await failedEvent(device.identifier);
    expect(failed.payload.reason).toBe('FWUP error : "Detected blake2b digest mismatch for system.img"');
    expect(device.fwupRuns().map((argv) => argv[0])).toEqual(['-V']);
    expect(device.downloads()).toEqual([]);
    daemon.stop();
    expect((await daemon.waitForExit()).code).toBe(0);
  });
});
