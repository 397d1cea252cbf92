// The daemon as a device runs it: the bundled file in a child process, against the test-server over real TLS.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  createDevice,
  fixture,
  RUNNING_UUID,
  runDaemon,
  statuses,
  useTestServer,
} from './support/harness.js';

const e2e = useTestServer('daemon-e2e-', ['small.fw']);

const payload = () => readFileSync(fixture('small.fw')).length;

describe('a full update cycle', () => {
  for (const auth of ['mtls', 'shared_secret'] as const) {
    it(`with ${auth}: joins with its metadata, downloads, applies, reports and reboots`, async () => {
      const device = await createDevice(e2e.server, e2e.root, `cycle-${auth}`, { auth });
      // Debug logging: even then no secret, signature or presigned query may appear.
      const daemon = runDaemon(device, {}, ['--log-level', 'debug']);
      const join = await e2e.server.waitForJoin(device.identifier);
      expect(join).toMatchObject({
        nerves_fw_uuid: RUNNING_UUID,
        nerves_fw_product: 'demo',
        fwup_version: '1.16.0',
        device_api_version: '2.0.0',
        currently_downloading_uuid: null,
        meta: { firmware_validated: true, firmware_auto_revert_detected: false },
        fwup_public_keys: 'on_connect',
      });
      e2e.server.sendUpdate(device.identifier, e2e.firmware('small.fw').id);
      const exit = await daemon.exited;
      expect(exit.code).toBe(0);
      expect(statuses(e2e.server, device.identifier)).toEqual(['received', 'started', 'completed']);
      const events = e2e.server.device(device.identifier).events.map((event) => event.event);
      expect(events.at(-1)).toBe('rebooting');
      const progress = e2e.server
        .device(device.identifier)
        .events.filter((event) => event.event === 'fwup_progress')
        .map((event) => `${event.payload.stage}:${event.payload.value}`);
      expect(progress).toContain('downloading:100');
      expect(progress.at(-1)).toBe('updating:100');
      expect(daemon.output()).toContain('would reboot now');
      expect(daemon.output()).not.toMatch(/X-Amz-Signature|x-nh-signature|SFMyNTY|secret-of-/);
      expect(daemon.output()).not.toMatch(/X-Amz-Signature|x-nh-signature|SFMyNTY|secret-of-/);
      expect(readFileSync(device.disk).length).toBe(262144);
      expect(device.downloads()).toEqual([]);
      expect(payload()).toBe(e2e.firmware('small.fw').size);
    });
  }
});

describe('offers the daemon does not act on', () => {
  it('ignores update_available:false silently, answers an offer of the running firmware with ignored', async () => {
    const device = await createDevice(e2e.server, e2e.root, 'ignorer');
    const daemon = runDaemon(device);
    await e2e.server.waitForJoin(device.identifier);
    e2e.server.push(device.identifier, 'update', {
      update_available: false,
      firmware_url: null,
      firmware_meta: null,
      size: null,
      checksum: null,
      partials_checksums: null,
      deployment_id: null,
    });
    const running = e2e.server.firmwareHost.updatePayload(e2e.server.url, e2e.firmware('small.fw').id);
    running.firmware_meta.uuid = RUNNING_UUID;
    e2e.server.push(device.identifier, 'update', running);
    await e2e.server.waitForEvent(device.identifier, (event) => event.payload?.status === 'ignored');
    expect(statuses(e2e.server, device.identifier)).toEqual(['received', 'ignored']);
    e2e.server.push(device.identifier, 'archive', { url: 'https://example.invalid/a' });
    await daemon.waitForOutput(/ignoring "archive"/);
    daemon.child.kill('SIGTERM');
    expect((await daemon.exited).code).toBe(0);
    expect(device.fwupRuns()).toEqual([]);
  });

  it('ignores a second update while one is running', async () => {
    const device = await createDevice(e2e.server, e2e.root, 'busy');
    const daemon = runDaemon(device, { FAKE_FWUP_DELAY_MS: '50' });
    await e2e.server.waitForJoin(device.identifier);
    e2e.server.sendUpdate(device.identifier, e2e.firmware('small.fw').id, {
      fault: { kind: 'slow', bytesPerSecond: 400_000 },
    });
    await e2e.server.waitForEvent(device.identifier, (event) => event.payload?.status === 'started');
    e2e.server.sendUpdate(device.identifier, e2e.firmware('small.fw').id);
    expect((await daemon.exited).code).toBe(0);
    expect(statuses(e2e.server, device.identifier)).toEqual(['received', 'started', 'completed']);
    expect(device.fwupRuns().filter((argv) => argv.includes('-a'))).toHaveLength(1);
  });
});
