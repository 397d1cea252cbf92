// The daemon as a device runs it: the bundled file in a child process, against the test-server over real TLS.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type FirmwareFile, startTestServer, type TestServer } from '@nerves-hub-link/test-server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDevice, fixture, RUNNING_UUID, runDaemon, statuses } from './support/harness.js';

let server: TestServer;
let firmware: FirmwareFile;
let root: string;

beforeAll(async () => {
  server = await startTestServer();
  firmware = await server.addFirmware(fixture('small.fw'));
  root = mkdtempSync(join(tmpdir(), 'daemon-e2e-'));
});
afterAll(async () => {
  await server?.close();
  rmSync(root, { recursive: true, force: true });
});

const payload = () => readFileSync(fixture('small.fw')).length;

describe('a full update cycle', () => {
  for (const auth of ['mtls', 'shared_secret'] as const) {
    it(`with ${auth}: joins with its metadata, downloads, applies, reports and reboots`, async () => {
      const device = await createDevice(server, root, `cycle-${auth}`, { auth });
      const daemon = runDaemon(device);
      const join = await server.waitForJoin(device.identifier);
      expect(join).toMatchObject({
        nerves_fw_uuid: RUNNING_UUID,
        nerves_fw_product: 'demo',
        fwup_version: '1.16.0',
        device_api_version: '2.0.0',
        currently_downloading_uuid: null,
        meta: { firmware_validated: true, firmware_auto_revert_detected: false },
        fwup_public_keys: 'on_connect',
      });
      server.sendUpdate(device.identifier, firmware.id);
      const exit = await daemon.exited;
      expect(exit.code).toBe(0);
      expect(statuses(server, device.identifier)).toEqual(['received', 'started', 'completed']);
      const events = server.device(device.identifier).events.map((event) => event.event);
      expect(events.at(-1)).toBe('rebooting');
      const progress = server
        .device(device.identifier)
        .events.filter((event) => event.event === 'fwup_progress')
        .map((event) => `${event.payload.stage}:${event.payload.value}`);
      expect(progress).toContain('downloading:100');
      expect(progress.at(-1)).toBe('updating:100');
      expect(daemon.output()).toContain('would reboot now');
      expect(readFileSync(device.disk).length).toBe(262144);
      expect(device.downloads()).toEqual([]);
      expect(payload()).toBe(firmware.size);
    });
  }
});

describe('offers the daemon does not act on', () => {
  it('ignores update_available:false silently, answers an offer of the running firmware with ignored', async () => {
    const device = await createDevice(server, root, 'ignorer');
    const daemon = runDaemon(device);
    await server.waitForJoin(device.identifier);
    server.push(device.identifier, 'update', {
      update_available: false,
      firmware_url: null,
      firmware_meta: null,
      size: null,
      checksum: null,
      partials_checksums: null,
      deployment_id: null,
    });
    const running = server.firmwareHost.updatePayload(server.url, firmware.id);
    running.firmware_meta.uuid = RUNNING_UUID;
    server.push(device.identifier, 'update', running);
    await server.waitForEvent(device.identifier, (event) => event.payload?.status === 'ignored');
    expect(statuses(server, device.identifier)).toEqual(['received', 'ignored']);
    server.push(device.identifier, 'archive', { url: 'https://example.invalid/a' });
    await daemon.waitForOutput(/ignoring "archive"/);
    daemon.child.kill('SIGTERM');
    expect((await daemon.exited).code).toBe(0);
    expect(device.fwupRuns()).toEqual([]);
  });

  it('ignores a second update while one is running', async () => {
    const device = await createDevice(server, root, 'busy');
    const daemon = runDaemon(device, { FAKE_FWUP_DELAY_MS: '50' });
    await server.waitForJoin(device.identifier);
    server.sendUpdate(device.identifier, firmware.id, { fault: { kind: 'slow', bytesPerSecond: 400_000 } });
    await server.waitForEvent(device.identifier, (event) => event.payload?.status === 'started');
    server.sendUpdate(device.identifier, firmware.id);
    expect((await daemon.exited).code).toBe(0);
    expect(statuses(server, device.identifier)).toEqual(['received', 'started', 'completed']);
    expect(device.fwupRuns().filter((argv) => argv.includes('-a'))).toHaveLength(1);
  });
});
