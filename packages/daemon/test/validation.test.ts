// Finishing an update on an A/B device: the new firmware is validated once it has proven itself, or rolled back.
// Real parts: the fwup-ab archives written by the fake fwup (which runs their fwup.conf tasks on a disk image),
// the U-Boot environment read and written by Debian's fw_printenv/fw_setenv, the daemon against the test-server,
// and a boot step standing for U-Boot's boot counting (createAbDevice). Each case asserts what NervesHub's device
// page shows. The daemon runs in the test process on a clock the test moves (support/in-process.ts), so that a
// deadline, a retry or a poll is over when the test says; the bundle runs where a crash (SIGKILL) or the status
// binary is the point.
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fakeFwupPath, type TomlTable } from '@nerves-hub-link/test-server';
import { abFixtures } from '@nerves-hub-link/test-server/fixtures';
import {
  type AbDevice,
  abDeviceUnavailable,
  createAbDevice,
  ManualClock,
  type ManualTimer,
} from '@nerves-hub-link/test-server/testing';
import { beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  createDevice,
  type DaemonProcess,
  type Device,
  runDaemon,
  startDaemon,
  statuses,
  useTestServer,
} from './support/harness.js';
import { type InProcessDaemon, runInProcess } from './support/in-process.js';

const unavailable = abDeviceUnavailable();
// Offers the orchestrator owes a device that joins go out at once (NervesHub's debounce is 3 s).
const e2e = useTestServer('daemon-validation-', [], { server: { orchestratorDelayMs: 50 } });
const V1 = '002b2a90-00ba-55a1-0d52-88211ea560c8';
const V2 = 'b1d19973-8f5e-587e-36f6-b6b3c2eedc66';
const AB_KEY = readFileSync(abFixtures.publicKey, 'utf8').trim();

let v2Id: string;
let v1Id: string;
beforeAll(async () => {
  if (unavailable) return;
  v2Id = (await e2e.server.addFirmware(abFixtures.v2Firmware)).id;
  v1Id = (await e2e.server.addFirmware(abFixtures.v1Firmware)).id;
});
// Skipped with the reason where libubootenv-tool is missing; CI installs it, so there a missing tool fails.
beforeEach((context) => context.skip(unavailable !== undefined && !process.env.CI, unavailable));

interface AbSetup {
  readonly device: Device;
  readonly ab: AbDevice;
  /** The clock of the device's daemons in the test process, and of its time since boot. */
  readonly clock: ManualClock;
}

/** An A/B device running v1 from the factory, its daemon reading the real environment. */
async function abDevice(identifier: string, validation: TomlTable): Promise<AbSetup> {
  const dir = join(e2e.root, identifier);
  mkdirSync(dir, { recursive: true });
  const ab = await createAbDevice(dir);
  const ops = (task: string) => [
    fakeFwupPath,
    '-a',
    '-d',
    ab.disk,
    '-i',
    abFixtures.opsFirmware,
    '-t',
    task,
    '-q',
    '-U',
  ];
  const device = await createDevice(e2e.server, e2e.root, identifier, {
    metadataCommand: ['fw_printenv', '-c', ab.envConfig],
    settings: {
      fwup: { devpath: ab.disk, public_keys: [AB_KEY] },
      validation: { command: ops('validate'), revert_command: ops('revert'), ...validation },
    },
  });
  return { device, ab, clock: new ManualClock() };
}

/** The timer of the next validation try or poll (VALIDATION_RETRY_MS). */
const retry = (timer: ManualTimer) => timer.delayMs === 10_000;

/** The deployment offers v2; the daemon writes it and runs its reboot command (it exits); then the device boots. */
async function updateToV2(setup: AbSetup): Promise<void> {
  const { device, ab } = setup;
  const daemon = await runInProcess(device, { clock: setup.clock });
  e2e.server.createDeployment({ firmwareId: v2Id, devices: [device.identifier] });
  expect((await daemon.waitForExit()).code).toBe(0);
  expect(daemon.output()).toContain('would reboot now');
  expect(await ab.boot()).toEqual({ slot: 'b', bootcount: 1, fellBack: false });
  expect(await ab.env()).toMatchObject({
    nerves_fw_active: 'b',
    upgrade_available: '1',
    'b.nerves_fw_uuid': V2,
  });
}

const joinsOf = (identifier: string) => e2e.server.device(identifier).joins;

async function stopped(daemon: DaemonProcess | InProcessDaemon): Promise<void> {
  daemon.stop();
  await daemon.waitForExit();
}

describe('validation on an A/B device', () => {
  it('(a) boots into the update, joins, passes its health check and is validated: NervesHub shows it', async () => {
    const setup = await abDevice('validated', { health_check: ['true'], deadline: '5m' });
    await updateToV2(setup);
    const daemon = await runInProcess(setup.device, { clock: setup.clock });
    const validated = await e2e.server.waitForEvent(
      setup.device.identifier,
      (e) => e.event === 'firmware_validated',
    );
    expect(validated.payload).toEqual({});
    const join = joinsOf(setup.device.identifier).at(-1)!;
    expect(join).toMatchObject({
      nerves_fw_uuid: V2,
      meta: { firmware_validated: false, firmware_auto_revert_detected: false },
    });
    expect(await setup.ab.env()).toMatchObject({
      upgrade_available: '0',
      'b.nerves_fw_validated': '1',
      nerves_fw_validated: '1',
    });
    const page = await e2e.server.waitForRecords(
      setup.device.identifier,
      (p) => p.firmwareValidation === 'validated',
    );
    expect(page.firmware?.uuid).toBe(V2);
    expect(page.firmwareStatus).toEqual(['Validated']);
    expect(page.firmwareHistory[0]).toMatchObject({ firmware: { uuid: V2 }, label: 'Validated' });
    await stopped(daemon);
    expect(daemon.output()).toContain(
      `the running firmware ${V2} (2.0.0) is not validated: validates after the first join of NervesHub and a passing health check; reverts at`,
    );
    expect(daemon.output()).toContain(
      `INFO  the running firmware ${V2} (2.0.0) is validated (validation.command); told NervesHub`,
    );
    // The next boot counts nothing: the bootloader keeps b.
    expect(await setup.ab.boot()).toEqual({ slot: 'b', bootcount: 0, fellBack: false });
  });

  it('(b) cannot reach NervesHub after the update: reverted at the deadline, back on v1, the next offer of v2 ignored with why, the one after applied', async () => {
    const setup = await abDevice('unreachable', { deadline: '3s' });
    const { device, ab } = setup;
    await updateToV2(setup);
    e2e.server.refuseUpgrades(503);
    let daemon: InProcessDaemon;
    try {
      daemon = await runInProcess(device, { clock: setup.clock });
      await daemon.waitForOutput(/connection problem: .*503/);
      // The deadline's 3 s pass (the reconnects in them are refused too); `rebooting` cannot leave, and the
      // reboot waits for it no longer than FLUSH_BEFORE_REBOOT_MS.
      daemon.clock.advance(3_000);
      await daemon.runTimer('the flush before the reboot', (timer) => timer.delayMs === 5_000);
      expect((await daemon.waitForExit()).code).toBe(0);
    } finally {
      e2e.server.refuseUpgrades(null);
    }
    expect(daemon.output()).toContain(
      `WARN  rolling back firmware ${V2} (2.0.0): it did not reach NervesHub within 3 s`,
    );
    expect(daemon.output()).toContain('would reboot now');
    expect(await ab.env()).toMatchObject({
      nerves_fw_active: 'a',
      upgrade_available: '0',
      'b.nerves_fw_validated': '0',
    });
    expect(await ab.boot()).toEqual({ slot: 'a', bootcount: 1, fellBack: false });

    const requestsBefore = e2e.server.firmwareRequests.length;
    const back = await runInProcess(device, { clock: setup.clock });
    const offered = await e2e.server.waitForRecords(
      device.identifier,
      (p) => p.lastUpdateOutcome?.status === 'ignored',
    );
    const join = joinsOf(device.identifier).at(-1)!;
    expect(join).toMatchObject({
      nerves_fw_uuid: V1,
      meta: { firmware_validated: true, firmware_auto_revert_detected: true },
    });
    expect(offered.lastUpdateOutcome!.reason).toMatch(
      new RegExp(
        `^firmware ${V2} \\(2\\.0\\.0\\) was rolled back on \\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d UTC: it did not reach NervesHub within 3 s$`,
      ),
    );
    expect(offered.firmwareStatus).toEqual(['Revert detected']);
    // v2 never reached NervesHub: its history has v1 only, now with the revert the device detected.
    expect(offered.firmwareHistory.map((row) => [row.firmware.uuid, row.label])).toEqual([
      [V1, 'Revert detected'],
    ]);
    expect(offered.inPenaltyBox).toBe(true);
    expect(e2e.server.firmwareRequests.length).toBe(requestsBefore);

    // The operator fixed what was wrong: once the penalty box is cleared, the next offer is taken.
    expect(e2e.server.clearPenaltyBox(device.identifier)).toBe(true);
    e2e.server.runOrchestrator();
    expect((await back.waitForExit()).code).toBe(0);
    expect(statuses(e2e.server, device.identifier).slice(-3)).toEqual(['received', 'started', 'completed']);
  });

  it("(c) a health check that keeps failing while connected: reverted with the check's output in the reason", async () => {
    const setup = await abDevice('unhealthy', {
      health_check: ['sh', '-c', 'echo data partition not mounted >&2; exit 3'],
      deadline: '3s',
    });
    await updateToV2(setup);
    const daemon = await runInProcess(setup.device, { clock: setup.clock });
    // The check has failed once (it tries again in 10 s) when the deadline comes.
    await daemon.clock.whenPending('the next health check', retry);
    daemon.clock.advance(3_000);
    expect((await daemon.waitForExit()).code).toBe(0);
    const output = daemon.output();
    const reason = /rolling back firmware \S+ \(2\.0\.0\): (.*)\n/.exec(output)?.[1] ?? '';
    expect(reason).toMatch(
      /^its health check \(validation\.health_check\) was still failing after 3 s: .*exited with status 3: data partition not mounted$/,
    );
    const page = e2e.server.records(setup.device.identifier)!;
    expect(page.firmwareValidation).toBe('not_validated');
    const state = JSON.parse(readFileSync(join(setup.device.dataDir, 'status.json'), 'utf8'));
    expect(state.validation).toMatchObject({
      state: 'reverting',
      last_revert: { uuid: V2, by: 'daemon', reason },
    });
    expect(await setup.ab.boot()).toMatchObject({ slot: 'a' });
    const back = await runInProcess(setup.device, { clock: setup.clock });
    const offered = await e2e.server.waitForRecords(
      setup.device.identifier,
      (p) => p.lastUpdateOutcome?.status === 'ignored',
    );
    expect(offered.lastUpdateOutcome!.reason).toContain(`: ${reason}`);
    await stopped(back);
  });

  it('(d) the daemon crashes on the update at every boot: the bootloader goes back, and the device says so', async () => {
    const setup = await abDevice('crashing', { when: 'manual' });
    const { device, ab } = setup;
    await updateToV2(setup);
    const onB = runDaemon(device);
    await e2e.server.waitForJoin(device.identifier, { count: 2 });
    onB.child.kill('SIGKILL');
    await onB.waitForExit();
    expect(await ab.boot()).toEqual({ slot: 'a', bootcount: 2, fellBack: true });
    const back = await runInProcess(device, { clock: setup.clock });
    const offered = await e2e.server.waitForRecords(
      device.identifier,
      (p) => p.lastUpdateOutcome?.status === 'ignored',
    );
    expect(joinsOf(device.identifier).at(-1)).toMatchObject({
      nerves_fw_uuid: V1,
      meta: { firmware_auto_revert_detected: true },
    });
    expect(offered.lastUpdateOutcome!.reason).toMatch(
      new RegExp(
        `^firmware ${V2} \\(2\\.0\\.0\\) was rolled back on .* UTC: the bootloader went back to the previous firmware because it was not validated in time \\(boot count\\)$`,
      ),
    );
    expect(offered.firmwareStatus).toEqual(['Revert detected']);
    await stopped(back);
    expect(back.output()).toContain(`WARN  firmware ${V2} (2.0.0) was rolled back by the bootloader`);
  });

  it('(e) a crash loop on the update does not extend the deadline', async () => {
    const setup = await abDevice('crash-loop', { when: 'manual', deadline: '5s' });
    await updateToV2(setup);
    const started = Date.now();
    for (let run = 0; run < 2; run++) {
      const daemon = runDaemon(setup.device);
      await daemon.waitForOutput(/is not validated/);
      await new Promise((resolve) => setTimeout(resolve, 1_500));
      daemon.child.kill('SIGKILL');
      await daemon.waitForExit();
    }
    const last = runDaemon(setup.device);
    expect((await last.waitForExit()).code).toBe(0);
    const elapsed = Date.now() - started;
    expect(last.output()).toContain(`rolling back firmware ${V2} (2.0.0)`);
    // Restarted twice after 1.5 s each: the roll-back still comes about 5 s after the first start, not 5 s after
    // the last one (which would be at least 8 s).
    expect(elapsed).toBeLessThan(8_000);
    expect(elapsed).toBeGreaterThanOrEqual(5_000);
  });

  it('(f) an offer while the update is not validated yet is rescheduled, nothing downloaded', async () => {
    const setup = await abDevice('held-offer', { when: 'manual', deadline: '10m' });
    await updateToV2(setup);
    const daemon = runDaemon(setup.device);
    await e2e.server.waitForJoin(setup.device.identifier, { count: 2 });
    const requestsBefore = e2e.server.firmwareRequests.length;
    expect(e2e.server.sendUpdate(setup.device.identifier, v1Id)).toBe(true);
    const rescheduled = await e2e.server.waitForEvent(
      setup.device.identifier,
      (event) => event.payload?.status === 'rescheduled',
    );
    expect(rescheduled.payload.delay_for).toBeGreaterThan(9 * 60_000);
    expect(rescheduled.payload.reason).toMatch(
      new RegExp(
        `^firmware ${V2} \\(2\\.0\\.0\\) is not validated yet: writing the other slot now would overwrite the only known-good firmware; it validates with \`nerves-hub-link validate\``,
      ),
    );
    const page = e2e.server.records(setup.device.identifier)!;
    expect(page.lastUpdateOutcome).toMatchObject({ status: 'rescheduled' });
    expect(page.inflightUpdate).toBeNull();
    expect(e2e.server.firmwareRequests.length).toBe(requestsBefore);
    const status = startDaemon(['status', '--config', setup.device.configFile]);
    expect((await status.waitForExit()).code).toBe(0);
    expect(status.output()).toMatch(
      /\n {2}validation {2}not validated: validates with `nerves-hub-link validate` \(validation\.when = "manual"\); reverts \S+Z \(in 10 min\)\n/,
    );
    await stopped(daemon);
    const check = startDaemon(['check', '--config', setup.device.configFile]);
    await check.waitForExit();
    expect(check.output()).toContain(
      `ok   validation: firmware ${V2} is not validated (upgrade_available=1, b.nerves_fw_validated=0, nerves_fw_validated=0): ` +
        '`nerves-hub-link validate` validates it (validation.when = "manual"); not validated 10 min after the daemon\'s first ' +
        'start on it, it is rolled back with validation.revert_command and a reboot',
    );
  });

  it('(g) `validate` by hand under when = "manual": exit 0, and the running daemon tells NervesHub within its poll', async () => {
    const setup = await abDevice('by-hand', { when: 'manual' });
    await updateToV2(setup);
    const daemon = await runInProcess(setup.device, { clock: setup.clock });
    await e2e.server.waitForJoin(setup.device.identifier, { count: 2 });
    const validate = startDaemon(['validate', '--config', setup.device.configFile]);
    expect((await validate.waitForExit()).code).toBe(0);
    expect(validate.output()).toBe(
      `firmware ${V2} (2.0.0) is validated (upgrade_available=0, b.nerves_fw_validated=1, nerves_fw_validated=1); the running daemon tells NervesHub\n`,
    );
    await daemon.runTimer('the validation poll', retry);
    await e2e.server.waitForEvent(setup.device.identifier, (e) => e.event === 'firmware_validated');
    await e2e.server.waitForRecords(setup.device.identifier, (p) => p.firmwareValidation === 'validated');
    const again = startDaemon(['validate', '--config', setup.device.configFile]);
    expect((await again.waitForExit()).code).toBe(0);
    expect(again.output()).toContain('is already validated');
    await stopped(daemon);
    expect(daemon.output()).toContain('is validated (outside the daemon); told NervesHub');
  });
});
