import type { FirmwareFault } from '@nerves-hub-link/test-server';
import { describe, expect, it } from 'vitest';
import { createDevice, runDaemon, statuses, useTestServer } from './support/harness.js';

const e2e = useTestServer('daemon-failures-', ['small.fw', 'small-corrupt.fw']);

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

describe('download failures', () => {
  for (const [label, fault, reason] of cases) {
    it(`${label}: failed with a reason, nothing applied, nothing left, still connected`, async () => {
      const device = await createDevice(e2e.server, e2e.root, `fail-${label.replace(/\W+/g, '-')}`, {
        downloadLines: ['max_attempts = 2'],
      });
      const daemon = runDaemon(device);
      await e2e.server.waitForJoin(device.identifier);
      e2e.server.sendUpdate(device.identifier, e2e.firmware('small.fw').id, { fault });
      const failed = await e2e.server.waitForEvent(
        device.identifier,
        (event) => event.payload?.status === 'failed',
        {
          timeoutMs: 20_000,
        },
      );
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
    it(`${label}: recovered, applied, completed`, async () => {
      const device = await createDevice(e2e.server, e2e.root, `recover-${label.replace(/\W+/g, '-')}`);
      const daemon = runDaemon(device);
      await e2e.server.waitForJoin(device.identifier);
      e2e.server.sendUpdate(device.identifier, e2e.firmware('small.fw').id, { fault });
      expect((await daemon.exited).code).toBe(0);
      expect(statuses(e2e.server, device.identifier)).toEqual(['received', 'started', 'completed']);
      expect(device.fwupRuns().filter((argv) => argv.includes('-a'))).toHaveLength(1);
    });
  }

  it('a firmware larger than the free space fails before a byte is written', async () => {
    const device = await createDevice(e2e.server, e2e.root, 'full-disk');
    const daemon = runDaemon(device);
    await e2e.server.waitForJoin(device.identifier);
    const payload = e2e.server.firmwareHost.updatePayload(e2e.server.url, e2e.firmware('small.fw').id);
    payload.size = 2 ** 52;
    e2e.server.push(device.identifier, 'update', payload);
    const failed = await e2e.server.waitForEvent(
      device.identifier,
      (event) => event.payload?.status === 'failed',
    );
    expect(failed.payload.reason).toMatch(/^Download failed : not enough free space/);
    expect(device.downloads()).toEqual([]);
    daemon.child.kill('SIGTERM');
    await daemon.exited;
  });

  it('an expired URL: rejoins without an in-flight uuid and completes with the fresh offer', async () => {
    const device = await createDevice(e2e.server, e2e.root, 'expired');
    const daemon = runDaemon(device);
    await e2e.server.waitForJoin(device.identifier);
    e2e.server.sendUpdate(device.identifier, e2e.firmware('small.fw').id, { fault: { kind: 'expired' } });
    const rejoin = await e2e.server.waitForJoin(device.identifier, { count: 2 });
    expect(rejoin.currently_downloading_uuid).toBeNull();
    e2e.server.sendUpdate(device.identifier, e2e.firmware('small.fw').id);
    expect((await daemon.exited).code).toBe(0);
    expect(statuses(e2e.server, device.identifier)).not.toContain('failed');
  });

  it('a corrupt archive with a matching checksum is stopped by fwup -V before the device is written', async () => {
    const device = await createDevice(e2e.server, e2e.root, 'verify-fails');
    const daemon = runDaemon(device);
    await e2e.server.waitForJoin(device.identifier);
    e2e.server.sendUpdate(device.identifier, e2e.firmware('small-corrupt.fw').id);
    const failed = await e2e.server.waitForEvent(
      device.identifier,
      (event) => event.payload?.status === 'failed',
    );
    expect(failed.payload.reason).toBe('FWUP error : "ZIP bad CRC: 0x390e150b should be 0x4d9fafdc"');
    expect(device.fwupRuns().map((argv) => argv[0])).toEqual(['-V']);
    // The same broken update again is not retried at once.
    e2e.server.sendUpdate(device.identifier, e2e.firmware('small-corrupt.fw').id);
    await daemon.waitForOutput(/(again|cooldown|wait)/i);
    expect(statuses(e2e.server, device.identifier).filter((status) => status === 'received')).toHaveLength(1);
    daemon.child.kill('SIGTERM');
    await daemon.exited;
  });
});
