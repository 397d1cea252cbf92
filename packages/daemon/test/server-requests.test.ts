// Requests the server makes of a device: reboot, identify, fwup keys; and the validation report.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createDevice, fixture, runDaemon, statuses, useTestServer } from './support/harness.js';

const key = readFileSync(fixture('fwup-key.pub'), 'utf8').trim();
const e2e = useTestServer('daemon-requests-', ['small-signed.fw']);

describe('server requests', () => {
  it('reboot: sends rebooting, runs the reboot command, exits 0', async () => {
    const device = await createDevice(e2e.server, e2e.root, 'rebooted');
    const daemon = runDaemon(device);
    await e2e.server.waitForJoin(device.identifier);
    e2e.server.push(device.identifier, 'reboot', {});
    expect((await daemon.exited).code).toBe(0);
    expect(e2e.server.device(device.identifier).events.map((event) => event.event)).toEqual(['rebooting']);
    expect(daemon.output()).toContain('would reboot now');
  });

  it('identify: runs the identify command', async () => {
    const marker = join(e2e.root, 'identified');
    const device = await createDevice(e2e.server, e2e.root, 'identified-device');
    writeFileSync(
      device.configFile,
      readFileSync(device.configFile, 'utf8').replace(
        '[commands]',
        `[commands]\nidentify = ["touch", "${marker}"]`,
      ),
    );
    const daemon = runDaemon(device);
    await e2e.server.waitForJoin(device.identifier);
    e2e.server.push(device.identifier, 'identify', {});
    await daemon.waitForOutput(/identifying the device/);
    for (let i = 0; i < 100 && !existsSync(marker); i++)
      await new Promise((resolve) => setTimeout(resolve, 50));
    expect(existsSync(marker)).toBe(true);
    daemon.child.kill('SIGTERM');
    await daemon.exited;
  });

  it('uses fwup keys sent by the server: signed firmware passes, and the keys reach fwup', async () => {
    const device = await createDevice(e2e.server, e2e.root, 'keyed');
    const daemon = runDaemon(device);
    await e2e.server.waitForJoin(device.identifier);
    e2e.server.push(device.identifier, 'fwup_public_keys', { keys: [key] });
    await daemon.waitForOutput(/received 1 fwup public key/);
    e2e.server.sendUpdate(device.identifier, e2e.firmware('small-signed.fw').id);
    expect((await daemon.exited).code).toBe(0);
    expect(statuses(e2e.server, device.identifier)).toEqual(['received', 'started', 'completed']);
    expect(device.fwupRuns().every((argv) => argv.includes('--public-key') && argv.includes(key))).toBe(true);
  });

  it('refuses firmware signed with another key than the configured ones', async () => {
    const wrong = readFileSync(fixture('fwup-key.pub'), 'utf8')
      .trim()
      .replace(/^./, (c) => (c === 'A' ? 'B' : 'A'));
    const device = await createDevice(e2e.server, e2e.root, 'wrong-key', {
      fwupLines: [`public_keys = ["${wrong}"]`],
    });
    const daemon = runDaemon(device);
    const joined = await e2e.server.waitForJoin(device.identifier);
    expect(joined.fwup_public_keys).toBeUndefined();
    e2e.server.sendUpdate(device.identifier, e2e.firmware('small-signed.fw').id);
    const failed = await e2e.server.waitForEvent(
      device.identifier,
      (event) => event.payload?.status === 'failed',
    );
    expect(failed.payload.reason).toMatch(/^FWUP error : /);
    expect(device.fwupRuns().filter((argv) => argv.includes('-a'))).toEqual([]);
    daemon.child.kill('SIGTERM');
    await daemon.exited;
  });

  it('reports an unvalidated firmware, then firmware_validated once it is validated', async () => {
    const device = await createDevice(e2e.server, e2e.root, 'validating');
    const envFile = join(device.dir, 'uboot.env');
    writeFileSync(
      envFile,
      readFileSync(envFile, 'utf8').replace('a.nerves_fw_validated=1', 'a.nerves_fw_validated=0'),
    );
    const daemon = runDaemon(device);
    const joined = await e2e.server.waitForJoin(device.identifier);
    expect(joined.meta.firmware_validated).toBe(false);
    writeFileSync(
      envFile,
      readFileSync(envFile, 'utf8').replace('a.nerves_fw_validated=0', 'a.nerves_fw_validated=1'),
    );
    await e2e.server.waitForEvent(device.identifier, (event) => event.event === 'firmware_validated', {
      timeoutMs: 15_000,
    });
    daemon.child.kill('SIGTERM');
    await daemon.exited;
  });
});
