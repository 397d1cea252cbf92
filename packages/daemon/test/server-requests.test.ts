// Requests the server makes of a device: reboot, identify, fwup keys; and the validation report.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  createDevice,
  fixture,
  FWUP_KEY as key,
  runDaemon,
  startDaemon,
  statuses,
  useTestServer,
} from './support/harness.js';

// No signing key on this server: each test decides where the device's keys come from.
const e2e = useTestServer('daemon-requests-', ['small-signed.fw', 'small.fw'], { signingKey: false });

describe('server requests', () => {
  it('reboot: sends rebooting, runs the reboot command, exits 0', async () => {
    const device = await createDevice(e2e.server, e2e.root, 'rebooted');
    const daemon = runDaemon(device);
    await e2e.server.waitForJoin(device.identifier);
    e2e.server.push(device.identifier, 'reboot', {});
    expect((await daemon.exited).code).toBe(0);
    const events = e2e.server.device(device.identifier).events.map((event) => event.event);
    expect(events.filter((event) => event !== 'report_network_interface')).toEqual(['rebooting']);
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

  it('uses fwup keys sent by the server, the string entries of a list with a bad one: signed firmware passes, and the keys reach fwup', async () => {
    const device = await createDevice(e2e.server, e2e.root, 'keyed');
    const daemon = runDaemon(device);
    const joined = await e2e.server.waitForJoin(device.identifier);
    expect(joined.fwup_public_keys).toBe('on_connect');
    e2e.server.push(device.identifier, 'fwup_public_keys', { keys: [42, key] });
    await daemon.waitForOutput(/received 1 fwup public key/);
    expect(daemon.output()).toContain('ignoring 1 fwup public key(s) from the server that are not strings');
    e2e.server.sendUpdate(device.identifier, e2e.firmware('small-signed.fw').id);
    expect((await daemon.exited).code).toBe(0);
    expect(statuses(e2e.server, device.identifier)).toEqual(['received', 'started', 'completed']);
    expect(device.fwupRuns().every((argv) => argv.includes('--public-key') && argv.includes(key))).toBe(true);
  });

  it('keys that arrive shortly after the offer are waited for and used', async () => {
    const device = await createDevice(e2e.server, e2e.root, 'keys-late');
    const daemon = runDaemon(device);
    await e2e.server.waitForJoin(device.identifier);
    e2e.server.sendUpdate(device.identifier, e2e.firmware('small-signed.fw').id);
    await daemon.waitForOutput(/waiting up to \d+ s for the server's fwup public keys/);
    e2e.server.push(device.identifier, 'fwup_public_keys', { keys: [key] });
    expect((await daemon.exited).code).toBe(0);
    expect(statuses(e2e.server, device.identifier)).toEqual(['received', 'started', 'completed']);
    expect(device.fwupRuns().every((argv) => argv.includes(key))).toBe(true);
  });

  it('no key configured and none from the server: received, then failed saying how to fix it; nothing downloaded', async () => {
    const device = await createDevice(e2e.server, e2e.root, 'keyless');
    const daemon = runDaemon(device);
    await e2e.server.waitForJoin(device.identifier);
    const requestsBefore = e2e.server.firmwareRequests.length;
    e2e.server.sendUpdate(device.identifier, e2e.firmware('small-signed.fw').id);
    const failed = await e2e.server.waitForEvent(
      device.identifier,
      (event) => event.payload?.status === 'failed',
    );
    expect(statuses(e2e.server, device.identifier)).toEqual(['received', 'failed']);
    expect(failed.payload.reason).toMatch(/^Refusing unverified firmware : no fwup public keys/);
    expect(failed.payload.reason).toMatch(/fwup\.public_keys.*signing key to the NervesHub organization/);
    expect(e2e.server.firmwareRequests.length).toBe(requestsBefore);
    expect(device.fwupRuns()).toEqual([]);
    expect(device.downloads()).toEqual([]);
    daemon.child.kill('SIGTERM');
    expect((await daemon.exited).code).toBe(0);
  });

  it('fwup.allow_unsigned = true: applies unsigned firmware, with a loud warning from run and check', async () => {
    const device = await createDevice(e2e.server, e2e.root, 'unsigned-dev-board', {
      fwupLines: ['allow_unsigned = true'],
    });
    const check = startDaemon(['check', '--config', device.configFile]);
    expect((await check.exited).code).toBe(0);
    expect(check.output()).toMatch(/WARNING: fwup.allow_unsigned = true/);
    expect(check.output()).toMatch(/NO signature check/);
    const daemon = runDaemon(device);
    await e2e.server.waitForJoin(device.identifier, { count: 2 });
    e2e.server.sendUpdate(device.identifier, e2e.firmware('small.fw').id);
    expect((await daemon.exited).code).toBe(0);
    expect(statuses(e2e.server, device.identifier)).toEqual(['received', 'started', 'completed']);
    expect(daemon.output()).toMatch(/fwup.allow_unsigned is set/);
    expect(device.fwupRuns().some((argv) => argv.includes('--public-key'))).toBe(false);
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
    expect(joined.meta).toMatchObject({ firmware_validated: false });
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
