// Requests the server makes of a device: reboot, identify, fwup keys; and the validation report. The daemon runs
// in the test process on a clock the tests move (support/in-process.ts).
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FWUP_KEY as key, startDaemon, statuses, useTestServer } from './support/harness.js';
import { startJoinedDevice } from './support/joined-device.js';
import { until } from './support/output.js';

// No signing key on this server: each test decides where the device's keys come from.
const e2e = useTestServer('daemon-requests-', ['small-signed.fw', 'small.fw'], { signingKey: false });

/** SERVER_KEYS_WAIT_MS: how long an offer waits for keys the join asked the server for. */
const KEYS_WAIT_MS = 5_000;

describe('server requests', () => {
  it('reboot: sends rebooting, runs the reboot command, exits 0', async () => {
    const { device, daemon } = await startJoinedDevice(e2e, 'rebooted');
    e2e.server.push(device.identifier, 'reboot', {});
    expect((await daemon.waitForExit()).code).toBe(0);
    const events = e2e.server.device(device.identifier).events.map((event) => event.event);
    expect(events.filter((event) => event !== 'report_network_interface')).toEqual(['rebooting']);
    expect(daemon.output()).toContain('would reboot now');
  });

  it('identify: runs the identify command', async () => {
    const marker = join(e2e.root, 'identified');
    const { device, daemon } = await startJoinedDevice(e2e, 'identified-device', {
      settings: { commands: { identify: ['touch', marker] } },
    });
    e2e.server.push(device.identifier, 'identify', {});
    await daemon.waitForOutput(/identifying the device/);
    await until('the identify command to touch its marker', () => existsSync(marker));
    daemon.stop();
    expect((await daemon.waitForExit()).code).toBe(0);
  });

  it('uses fwup keys sent by the server, the string entries of a list with a bad one: signed firmware passes, and the keys reach fwup', async () => {
    const { device, daemon, join } = await startJoinedDevice(e2e, 'keyed');
    expect(join.fwup_public_keys).toBe('on_connect');
    e2e.server.push(device.identifier, 'fwup_public_keys', { keys: [42, key] });
    await daemon.waitForOutput(/received 1 fwup public key/);
    expect(daemon.output()).toContain('ignoring 1 fwup public key(s) from the server that are not strings');
    e2e.server.sendUpdate(device.identifier, e2e.firmware('small-signed.fw').id);
    expect((await daemon.waitForExit()).code).toBe(0);
    expect(statuses(e2e.server, device.identifier)).toEqual(['received', 'started', 'completed']);
    expect(device.fwupRuns().every((argv) => argv.includes('--public-key') && argv.includes(key))).toBe(true);
  });

  it('keys that arrive while the offer waits for them are used, before the wait is over', async () => {
    const { device, daemon } = await startJoinedDevice(e2e, 'keys-late');
    e2e.server.sendUpdate(device.identifier, e2e.firmware('small-signed.fw').id);
    await daemon.waitForOutput(/waiting up to \d+ s for the server's fwup public keys/);
    const wait = await daemon.clock.whenPending(
      'the wait for keys',
      (timer) => timer.delayMs === KEYS_WAIT_MS,
    );
    e2e.server.push(device.identifier, 'fwup_public_keys', { keys: [key] });
    expect((await daemon.waitForExit()).code).toBe(0);
    expect(daemon.clock.pending()).not.toContain(wait);
    expect(daemon.clock.now()).toBeLessThan(wait.dueAt);
    expect(statuses(e2e.server, device.identifier)).toEqual(['received', 'started', 'completed']);
    expect(device.fwupRuns().every((argv) => argv.includes(key))).toBe(true);
  });

  it('no key configured and none from the server: once the wait is over, failed saying how to fix it; nothing downloaded', async () => {
    const { device, daemon } = await startJoinedDevice(e2e, 'keyless');
    const requestsBefore = e2e.server.firmwareRequests.length;
    e2e.server.sendUpdate(device.identifier, e2e.firmware('small-signed.fw').id);
    await daemon.runTimer('the wait for keys', (timer) => timer.delayMs === KEYS_WAIT_MS);
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
    daemon.stop();
    expect((await daemon.waitForExit()).code).toBe(0);
  });

  it('fwup.allow_unsigned = true: applies unsigned firmware, with a loud warning from run and check', async () => {
    const { device, daemon } = await startJoinedDevice(e2e, 'unsigned-dev-board', {
      settings: { fwup: { allow_unsigned: true } },
    });
    e2e.server.sendUpdate(device.identifier, e2e.firmware('small.fw').id);
    expect((await daemon.waitForExit()).code).toBe(0);
    expect(statuses(e2e.server, device.identifier)).toEqual(['received', 'started', 'completed']);
    expect(daemon.output()).toMatch(/fwup.allow_unsigned is set/);
    expect(device.fwupRuns().some((argv) => argv.includes('--public-key'))).toBe(false);
    const check = startDaemon(['check', '--config', device.configFile]);
    expect((await check.waitForExit()).code).toBe(0);
    expect(check.output()).toMatch(/WARNING: fwup.allow_unsigned = true/);
    expect(check.output()).toMatch(/NO signature check/);
  });

  it('refuses firmware signed with another key than the configured ones', async () => {
    const wrong = key.replace(/^./, (c) => (c === 'A' ? 'B' : 'A'));
    const { device, daemon, join } = await startJoinedDevice(e2e, 'wrong-key', {
      settings: { fwup: { public_keys: [wrong] } },
    });
    expect(join.fwup_public_keys).toBeUndefined();
    e2e.server.sendUpdate(device.identifier, e2e.firmware('small-signed.fw').id);
    const failed = await e2e.server.waitForEvent(
      device.identifier,
      (event) => event.payload?.status === 'failed',
    );
    expect(failed.payload.reason).toMatch(/^FWUP error : /);
    expect(device.fwupRuns().filter((argv) => argv.includes('-a'))).toEqual([]);
    daemon.stop();
    expect((await daemon.waitForExit()).code).toBe(0);
  });

  it('reports an unvalidated firmware, checks it again every 10 s, then sends firmware_validated once it is', async () => {
    const { device, daemon, join } = await startJoinedDevice(e2e, 'validating', { validated: false });
    expect(join.meta).toMatchObject({ firmware_validated: false });
    const poll = (timer: { delayMs: number }) => timer.delayMs === 10_000;
    // Still unvalidated at the first check: it checks again.
    await daemon.runTimer('the validation poll', poll);
    await daemon.clock.whenPending('the next validation poll', poll);
    const events = () => e2e.server.device(device.identifier).events.map((event) => event.event);
    expect(events()).not.toContain('firmware_validated');
    writeFileSync(
      device.envFile,
      readFileSync(device.envFile, 'utf8').replace('a.nerves_fw_validated=0', 'a.nerves_fw_validated=1'),
    );
    await daemon.runTimer('the validation poll', poll);
    await e2e.server.waitForEvent(device.identifier, (event) => event.event === 'firmware_validated');
    await daemon.waitForOutput(
      /the running firmware \S+ \(\S+\) is validated \(outside the daemon\); told NervesHub/,
    );
    expect(daemon.clock.pending().filter(poll)).toEqual([]);
    daemon.stop();
    expect((await daemon.waitForExit()).code).toBe(0);
  });
});
