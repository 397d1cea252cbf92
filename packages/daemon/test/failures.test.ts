// What the server hears when an update goes wrong, and that the daemon stays connected for the next one.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  type FirmwareFault,
  type FirmwareFile,
  startTestServer,
  type TestServer,
} from '@nerves-hub-link/test-server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDevice, fixture, runDaemon, statuses } from './support/harness.js';

let server: TestServer;
let firmware: FirmwareFile;
let corrupt: FirmwareFile;
let root: string;

beforeAll(async () => {
  server = await startTestServer();
  firmware = await server.addFirmware(fixture('small.fw'));
  corrupt = await server.addFirmware(fixture('small-corrupt.fw'));
  root = mkdtempSync(join(tmpdir(), 'daemon-failures-'));
});
afterAll(async () => {
  await server?.close();
  rmSync(root, { recursive: true, force: true });
});

const cases: [string, FirmwareFault, RegExp][] = [
  ['a 404', { kind: 'status', status: 404 }, /^Download failed : .*HTTP 404/],
  ['a body that is always corrupt', { kind: 'corrupt', atByte: 500 }, /^Download failed : .*SHA-256/],
  ['a connection that always drops', { kind: 'drop', atByte: 2000 }, /^Download failed : /],
  ['a stalled body', { kind: 'stall', atByte: 2000 }, /^Download failed : .*no data/],
  ['a wrong Content-Length', { kind: 'wrong-length', contentLength: 300_000 }, /^Download failed : /],
  ['a redirect loop', { kind: 'redirect-loop' }, /^Download failed : .*redirect loop/],
];

describe('download failures', () => {
  for (const [label, fault, reason] of cases) {
    it(`${label}: failed with a reason, nothing applied, nothing left, still connected`, async () => {
      const device = await createDevice(server, root, `fail-${label.replace(/\W+/g, '-')}`, {
        downloadLines: ['max_attempts = 2'],
      });
      const daemon = runDaemon(device);
      await server.waitForJoin(device.identifier);
      server.sendUpdate(device.identifier, firmware.id, { fault });
      const failed = await server.waitForEvent(
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
      expect(server.device(device.identifier).connected).toBe(true);
      daemon.child.kill('SIGTERM');
      expect((await daemon.exited).code).toBe(0);
    });
  }

  it('retries a dropped connection and completes', async () => {
    const device = await createDevice(server, root, 'retry-drop');
    const daemon = runDaemon(device);
    await server.waitForJoin(device.identifier);
    server.sendUpdate(device.identifier, firmware.id, { fault: { kind: 'drop', atByte: 50_000, times: 1 } });
    expect((await daemon.exited).code).toBe(0);
    expect(statuses(server, device.identifier)).toEqual(['received', 'started', 'completed']);
  });

  it('an expired URL: rejoins without an in-flight uuid and completes with the fresh offer', async () => {
    const device = await createDevice(server, root, 'expired');
    const daemon = runDaemon(device);
    await server.waitForJoin(device.identifier);
    server.sendUpdate(device.identifier, firmware.id, { fault: { kind: 'expired' } });
    const rejoin = await server.waitForJoin(device.identifier, { count: 2 });
    expect(rejoin.currently_downloading_uuid).toBeNull();
    server.sendUpdate(device.identifier, firmware.id);
    expect((await daemon.exited).code).toBe(0);
    expect(statuses(server, device.identifier)).not.toContain('failed');
  });

  it('a corrupt archive with a matching checksum is stopped by fwup -V before the device is written', async () => {
    const device = await createDevice(server, root, 'verify-fails');
    const daemon = runDaemon(device);
    await server.waitForJoin(device.identifier);
    server.sendUpdate(device.identifier, corrupt.id);
    const failed = await server.waitForEvent(
      device.identifier,
      (event) => event.payload?.status === 'failed',
    );
    expect(failed.payload.reason).toBe('FWUP error : "ZIP bad CRC: 0x390e150b should be 0x4d9fafdc"');
    expect(device.fwupRuns().map((argv) => argv[0])).toEqual(['-V']);
    // The same broken update again is not retried at once.
    server.sendUpdate(device.identifier, corrupt.id);
    await daemon.waitForOutput(/(again|cooldown|wait)/i);
    expect(statuses(server, device.identifier).filter((status) => status === 'received')).toHaveLength(1);
    daemon.child.kill('SIGTERM');
    await daemon.exited;
  });
});
