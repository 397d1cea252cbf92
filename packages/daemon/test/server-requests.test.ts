// Requests the server makes of a device: reboot, identify, fwup keys; and the validation report.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type FirmwareFile, startTestServer, type TestServer } from '@nerves-hub-link/test-server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDevice, fixture, runDaemon, statuses } from './support/harness.js';

let server: TestServer;
let signed: FirmwareFile;
let root: string;
const key = readFileSync(fixture('fwup-key.pub'), 'utf8').trim();

beforeAll(async () => {
  server = await startTestServer();
  signed = await server.addFirmware(fixture('small-signed.fw'));
  root = mkdtempSync(join(tmpdir(), 'daemon-requests-'));
});
afterAll(async () => {
  await server?.close();
  rmSync(root, { recursive: true, force: true });
});

describe('server requests', () => {
  it('reboot: sends rebooting, runs the reboot command, exits 0', async () => {
    const device = await createDevice(server, root, 'rebooted');
    const daemon = runDaemon(device);
    await server.waitForJoin(device.identifier);
    server.push(device.identifier, 'reboot', {});
    expect((await daemon.exited).code).toBe(0);
    expect(server.device(device.identifier).events.map((event) => event.event)).toEqual(['rebooting']);
    expect(daemon.output()).toContain('would reboot now');
  });

  it('identify: runs the identify command', async () => {
    const marker = join(root, 'identified');
    const device = await createDevice(server, root, 'identified-device');
    writeFileSync(
      device.configFile,
      readFileSync(device.configFile, 'utf8').replace(
        '[commands]',
        `[commands]\nidentify = ["touch", "${marker}"]`,
      ),
    );
    const daemon = runDaemon(device);
    await server.waitForJoin(device.identifier);
    server.push(device.identifier, 'identify', {});
    await daemon.waitForOutput(/identifying the device/);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(readFileSync(marker, 'utf8')).toBe('');
    daemon.child.kill('SIGTERM');
    await daemon.exited;
  });

  it('uses fwup keys sent by the server: signed firmware passes, and the keys reach fwup', async () => {
    const device = await createDevice(server, root, 'keyed');
    const daemon = runDaemon(device);
    await server.waitForJoin(device.identifier);
    server.push(device.identifier, 'fwup_public_keys', { keys: [key] });
    await daemon.waitForOutput(/received 1 fwup public key/);
    server.sendUpdate(device.identifier, signed.id);
    expect((await daemon.exited).code).toBe(0);
    expect(statuses(server, device.identifier)).toEqual(['received', 'started', 'completed']);
    expect(device.fwupRuns().every((argv) => argv.includes('--public-key') && argv.includes(key))).toBe(true);
  });

  it('refuses firmware signed with another key than the configured ones', async () => {
    const wrong = readFileSync(fixture('fwup-key.pub'), 'utf8')
      .trim()
      .replace(/^./, (c) => (c === 'A' ? 'B' : 'A'));
    const device = await createDevice(server, root, 'wrong-key', {
      fwupLines: [`public_keys = ["${wrong}"]`],
    });
    const daemon = runDaemon(device);
    const joined = await server.waitForJoin(device.identifier);
    expect(joined.fwup_public_keys).toBeUndefined();
    server.sendUpdate(device.identifier, signed.id);
    const failed = await server.waitForEvent(
      device.identifier,
      (event) => event.payload?.status === 'failed',
    );
    expect(failed.payload.reason).toMatch(/^FWUP error : /);
    expect(device.fwupRuns().filter((argv) => argv.includes('-a'))).toEqual([]);
    daemon.child.kill('SIGTERM');
    await daemon.exited;
  });

  it('reports an unvalidated firmware, then firmware_validated once it is validated', async () => {
    const device = await createDevice(server, root, 'validating');
    const envFile = join(device.dir, 'uboot.env');
    writeFileSync(
      envFile,
      readFileSync(envFile, 'utf8').replace('a.nerves_fw_validated=1', 'a.nerves_fw_validated=0'),
    );
    const daemon = runDaemon(device);
    const joined = await server.waitForJoin(device.identifier);
    expect(joined.meta.firmware_validated).toBe(false);
    writeFileSync(
      envFile,
      readFileSync(envFile, 'utf8').replace('a.nerves_fw_validated=0', 'a.nerves_fw_validated=1'),
    );
    await server.waitForEvent(device.identifier, (event) => event.event === 'firmware_validated', {
      timeoutMs: 15_000,
    });
    daemon.child.kill('SIGTERM');
    await daemon.exited;
  });
});
