import type { FirmwareFault } from '@nerves-hub-link/test-server';
import { describe, expect, it } from 'vitest';
import { createDevice, runDaemon, statuses, useTestServer } from './support/harness.js';

const e2e = useTestServer('daemon-failures-', ['small-signed.fw', 'small-signed-tampered.fw']);

const cases: [string, FirmwareFault, RegExp][] = [
  ['a 404', { kind: 'status', status: 404 }, /^Download failed : .*HTTP 404/],
  ['a body that is always corrupt', { kind: 'corrupt', atByte: 500 }, /^Download failed : .*SHA-256/],
  ['a connection that always drops', { kind: 'drop', atByte: 2000 }, /^Download failed : /],
  ['a stalled body', { kind: 'stall', atByte: 2000 }, /^Download failed : .*no data/],
  ['a wrong Content-Length', { kind: 'wrong-length', contentLength: 300_000 }, /^Download failed : /],
  ['a redirect loop', { kind: 'redirect-loop' }, /^Download failed : .*redirect loop/],
  ['a server error that persists', { kind: 'status', status: 500 }, /^Download failed : .*HTTP 500/],
];

const recovered: [string, FirmwareFault][] = [
  ['a dropped connection', { kind: 'drop', atByte: 50_000, times: 1 }],
  ['a 503 with Retry-After', { kind: 'status', status: 503, retryAfterSeconds: 1, times: 1 }],
  ['a corrupt byte', { kind: 'corrupt', atByte: 70_000, times: 1 }],
  ['a redirect chain', { kind: 'redirects', count: 3 }],
  ['a slow drip', { kind: 'slow', bytesPerSecond: 300_000 }],
];

const failedEvent = (identifier: string, timeoutMs = 15_000) =>
  e2e.server.waitForEvent(identifier, (event) => event.payload?.status === 'failed', { timeoutMs });

describe('download failures', () => {
  for (const [label, fault, reason] of cases) {
    it(`${label}: failed with a reason, nothing applied, nothing left, still connected`, async () => {
      const device = await createDevice(e2e.server, e2e.root, `fail-${label.replace(/\W+/g, '-')}`, {
        downloadLines: ['max_attempts = 2'],
      });
      const daemon = runDaemon(device);
      await e2e.server.waitForJoin(device.identifier);
      e2e.server.sendUpdate(device.identifier, e2e.firmware('small-signed.fw').id, { fault });
      const failed = await failedEvent(device.identifier, 20_000);
      expect(failed.payload.reason).toMatch(reason);
      expect(failed.payload.reason).not.toContain('X-Amz');
      expect(device.fwupRuns()).toEqual([]);
      expect(device.downloads()).toEqual([]);
      expect(e2e.server.device(device.identifier).connected).toBe(true);
      daemon.child.kill('SIGTERM');
      expect((await daemon.exited).code).toBe(0);
    });
  }

  for (const [label, fault] of recovered) {
    it(`${label}: recovered, applied, completed, with started for every connection`, async () => {
      const device = await createDevice(e2e.server, e2e.root, `recover-${label.replace(/\W+/g, '-')}`);
      const daemon = runDaemon(device);
      await e2e.server.waitForJoin(device.identifier);
      const requestsBefore = e2e.server.firmwareRequests.length;
      e2e.server.sendUpdate(device.identifier, e2e.firmware('small-signed.fw').id, { fault });
      expect((await daemon.exited).code).toBe(0);
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
    const device = await createDevice(e2e.server, e2e.root, 'full-disk');
    const daemon = runDaemon(device);
    await e2e.server.waitForJoin(device.identifier);
    const payload = e2e.server.firmwareHost.updatePayload(e2e.server.url, e2e.firmware('small-signed.fw').id);
    payload.size = 2 ** 52;
    e2e.server.push(device.identifier, 'update', payload);
    const failed = await failedEvent(device.identifier);
    expect(failed.payload.reason).toMatch(/^Download failed : not enough free space/);
    expect(device.downloads()).toEqual([]);
    daemon.child.kill('SIGTERM');
    await daemon.exited;
  });

  it('a refused firmware URL (403): failed, naming the status and the URL without its query; no rejoin', async () => {
    const device = await createDevice(e2e.server, e2e.root, 'refused-url');
    const daemon = runDaemon(device);
    await e2e.server.waitForJoin(device.identifier);
    const firmware = e2e.firmware('small-signed.fw');
    e2e.server.sendUpdate(device.identifier, firmware.id, { fault: { kind: 'expired' } });
    const failed = await failedEvent(device.identifier);
    expect(failed.payload.reason).toMatch(
      /^Download failed : the firmware host refused the URL with HTTP 403/,
    );
    expect(failed.payload.reason).toContain(`${e2e.server.url}/firmware/${firmware.id}.fw`);
    expect(failed.payload.reason).not.toMatch(/X-Amz|\?/);
    expect(statuses(e2e.server, device.identifier)).toEqual(['received', 'started', 'failed']);
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(e2e.server.device(device.identifier).joins).toHaveLength(1);
    daemon.child.kill('SIGTERM');
    expect((await daemon.exited).code).toBe(0);
  });

  it('a final status made while disconnected: the rejoin names the update, then the status lands', async () => {
    const device = await createDevice(e2e.server, e2e.root, 'late-status', {
      downloadLines: ['max_attempts = 1'],
    });
    const daemon = runDaemon(device);
    await e2e.server.waitForJoin(device.identifier);
    const firmware = e2e.firmware('small-signed.fw');
    e2e.server.sendUpdate(device.identifier, firmware.id, { fault: { kind: 'stall', atByte: 2000 } });
    await e2e.server.waitForEvent(device.identifier, (event) => event.payload?.status === 'started');
    e2e.server.refuseUpgrades(503);
    e2e.server.kick(device.identifier);
    try {
      // The stalled download gives up (idle_timeout_ms = 1000) while the device cannot get back in.
      await daemon.waitForOutput(/update \S+ failed: Download failed/);
    } finally {
      e2e.server.refuseUpgrades(null);
    }
    const rejoin = await e2e.server.waitForJoin(device.identifier, { count: 2, timeoutMs: 20_000 });
    expect(rejoin.currently_downloading_uuid).toBe(firmware.meta.uuid);
    const failed = await failedEvent(device.identifier);
    expect(failed.payload.reason).toMatch(/^Download failed : /);
    // It landed on the update's own record: one attempt (for `received`), no empty record counting another.
    const page = await e2e.server.waitForRecords(device.identifier, (each) => each.inflightUpdate === null);
    expect(page.updateAttempts).toHaveLength(1);
    // Once it has left, the next join names nothing.
    await new Promise((resolve) => setTimeout(resolve, 300));
    e2e.server.kick(device.identifier);
    const third = await e2e.server.waitForJoin(device.identifier, { count: 3, timeoutMs: 20_000 });
    expect(third.currently_downloading_uuid).toBeNull();
    daemon.child.kill('SIGTERM');
    expect((await daemon.exited).code).toBe(0);
  });
});

describe('firmware that fwup refuses', () => {
  it('a tampered signed archive is stopped by fwup -V before the device is written', async () => {
    const device = await createDevice(e2e.server, e2e.root, 'verify-fails');
    const daemon = runDaemon(device);
    await e2e.server.waitForJoin(device.identifier);
    e2e.server.sendUpdate(device.identifier, e2e.firmware('small-signed-tampered.fw').id);
    const failed = await failedEvent(device.identifier);
    expect(failed.payload.reason).toBe('FWUP error : "Detected blake2b digest mismatch for system.img"');
    expect(device.fwupRuns().map((argv) => argv[0])).toEqual(['-V']);
    expect(device.downloads()).toEqual([]);
    daemon.child.kill('SIGTERM');
    await daemon.exited;
  });
});
