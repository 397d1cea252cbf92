import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { ValidationConfig } from '../config/sections/validation.js';
import type { Logger } from '../log/logger.js';
import type { UpdateFacts } from '../update/facts.js';
import type { UpdateOffer } from '../update/offer.js';
import type { BootClock } from './boot-clock.js';
import { ValidationFile } from './validation-file.js';
import { FirmwareValidator, VALIDATION_RETRY_MS } from './validator.js';

const B = { uuid: 'b1d19973-8f5e-587e-36f6-b6b3c2eedc66', version: '2.0.0' };
const A = { uuid: '002b2a90-00ba-55a1-0d52-88211ea560c8', version: '1.0.0' };
const VALIDATE = ['fwup', '-t', 'validate'];
const REVERT = ['fwup', '-t', 'revert'];
const HEALTHY = ['/usr/libexec/acme/healthy'];
const WALL_START = Date.parse('2026-12-07T15:30:00Z');

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** A device with a boot clock, timers and commands the test moves by hand. */
function device(options: { dataDir?: string; bootId?: string } = {}) {
  const dataDir = options.dataDir ?? mkdtempSync(join(tmpdir(), 'validator-'));
  if (!options.dataDir) dirs.push(dataDir);
  const world = {
    dataDir,
    uptime: 5_000,
    bootId: options.bootId ?? 'boot-1',
    wall: WALL_START,
    validated: false as boolean | undefined,
    timers: [] as { at: number; callback: () => void; cancelled: boolean }[],
    ran: [] as string[][],
    fail: new Map<string, string>(),
    reported: 0,
    reboots: [] as string[],
    logs: [] as string[],
  };
  const clock: BootClock = { uptimeMs: () => world.uptime, bootId: () => world.bootId };
  const logger = {
    debug() {},
    info: (message: string) => world.logs.push(`info ${message}`),
    warn: (message: string) => world.logs.push(`warn ${message}`),
    error: (message: string) => world.logs.push(`error ${message}`),
  } as unknown as Logger;
  const make = (
    config: ValidationConfig,
    firmware = B,
    extra: { bootloaderReverted?: typeof A; saveIntervalMs?: number } = {},
  ) =>
    new FirmwareValidator({
      ...(extra.saveIntervalMs ? { saveIntervalMs: extra.saveIntervalMs } : {}),
      config,
      firmware,
      validated: world.validated,
      ...(extra.bootloaderReverted ? { bootloaderReverted: extra.bootloaderReverted } : {}),
      file: new ValidationFile(dataDir),
      logger,
      readState: async () => ({
        validated: world.validated,
        detail: `upgrade_available=${world.validated ? 0 : 1}`,
      }),
      runCommand: async (argv) => {
        world.ran.push([...argv]);
        const failure = world.fail.get(argv[0]!);
        if (failure) throw new Error(failure);
        if (argv === VALIDATE || argv.join(' ') === VALIDATE.join(' ')) world.validated = true;
      },
      reportValidated: () => {
        world.reported += 1;
      },
      reboot: (why) => world.reboots.push(why),
      clock,
      now: () => world.wall,
      setTimer: (callback, ms) => {
        const timer = { at: world.uptime + ms, callback, cancelled: false };
        world.timers.push(timer);
        return () => {
          timer.cancelled = true;
        };
      },
    });
  /** Moves every clock by `ms`, firing the timers that fall due, in order. */
  const advance = async (ms: number) => {
    const end = world.uptime + ms;
    for (;;) {
      const due = world.timers.filter((t) => !t.cancelled && t.at <= end).sort((x, y) => x.at - y.at)[0];
      if (!due) break;
      world.wall += due.at - world.uptime;
      world.uptime = due.at;
      due.cancelled = true;
      due.callback();
      await microtasks();
    }
    world.wall += end - world.uptime;
    world.uptime = end;
  };
  const stored = () => JSON.parse(readFileSync(join(dataDir, 'validation.json'), 'utf8'));
  return { world, make, advance, stored };
}

const settle = () => new Promise((resolve) => setTimeout(resolve, 0));
/** Lets the validator's awaits on the fake commands (promises, no I/O) run to their end. */
async function microtasks(): Promise<void> {
  for (let turn = 0; turn < 20; turn++) await Promise.resolve();
}

const offer = (uuid: string): UpdateOffer => ({ uuid }) as UpdateOffer;
const facts = (uuid: string, deploymentId?: number): UpdateFacts => ({
  uuid,
  ...(deploymentId === undefined ? {} : { deploymentId }),
});

describe('FirmwareValidator', () => {
  it('validates after the first join and a passing health check, and tells NervesHub at once', async () => {
    const { world, make, stored } = device();
    const validator = make({
      command: VALIDATE,
      when: 'connected',
      healthCheck: HEALTHY,
      deadlineMs: 600_000,
      revertCommand: REVERT,
    });
    validator.start();
    expect(stored().unvalidated).toMatchObject({ uuid: B.uuid, carried_ms: 0, boot_id: 'boot-1' });
    expect(validator.status()).toMatchObject({
      state: 'not-validated',
      policy: 'connected',
      note: 'validates after the first join of NervesHub and a passing health check',
      revert_at: '2026-12-07T15:40:00.000Z',
    });
    expect(world.ran).toEqual([]);
    validator.joined();
    await settle();
    expect(world.ran).toEqual([HEALTHY, VALIDATE]);
    expect(world.reported).toBe(1);
    expect(validator.validated).toBe(true);
    expect(validator.status()).toMatchObject({ state: 'validated', revert_at: null });
    expect(() => stored()).toThrow();
    expect(world.logs).toContain(
      `info the running firmware ${B.uuid} (2.0.0) is validated (validation.command); told NervesHub`,
    );
  });

  it('retries a failing health check, and reverts at the deadline with its output in the reason', async () => {
    const { world, make, advance, stored } = device();
    world.fail.set(HEALTHY[0]!, 'exited with status 3: disk not mounted');
    const validator = make({
      command: VALIDATE,
      when: 'connected',
      healthCheck: HEALTHY,
      deadlineMs: 60_000,
      revertCommand: REVERT,
    });
    validator.start();
    validator.joined();
    await settle();
    await advance(VALIDATION_RETRY_MS * 2);
    expect(world.ran.filter((argv) => argv[0] === HEALTHY[0])).toHaveLength(3);
    await advance(60_000);
    expect(world.ran.at(-1)).toEqual(REVERT);
    const reason =
      'its health check (validation.health_check) was still failing after 60 s: exited with status 3: disk not mounted';
    expect(world.reboots).toEqual([`firmware ${B.uuid} (2.0.0) was rolled back: ${reason}`]);
    expect(stored().last_revert).toEqual({
      uuid: B.uuid,
      version: '2.0.0',
      at: '2026-12-07T15:31:00.000Z',
      reason,
      by: 'daemon',
      offer_answered: false,
    });
    expect(stored().unvalidated).toBeUndefined();
    expect(validator.status().state).toBe('reverting');
  });

  it('reverts a firmware that never reached NervesHub, saying so', async () => {
    const { world, make, advance } = device();
    const validator = make({
      command: VALIDATE,
      when: 'connected',
      deadlineMs: 600_000,
      revertCommand: REVERT,
    });
    validator.start();
    await advance(600_000);
    expect(world.ran).toEqual([REVERT]);
    expect(world.reboots).toEqual([
      `firmware ${B.uuid} (2.0.0) was rolled back: it did not reach NervesHub within 10 min`,
    ]);
  });

  it('a restart or a crash loop in the same boot does not extend the deadline; the time between counts too', async () => {
    const { world, make, advance } = device();
    const config = {
      command: VALIDATE,
      when: 'connected',
      deadlineMs: 600_000,
      revertCommand: REVERT,
    } as const;
    for (let run = 0; run < 4; run++) {
      const validator = make(config);
      validator.start();
      await advance(100_000);
      validator.stop();
      world.timers = [];
      await advance(20_000); // down until systemd starts it again
    }
    const last = make(config);
    last.start();
    expect(last.status().revert_at).toBe(new Date(world.wall + 120_000).toISOString());
    await advance(119_000);
    expect(world.ran).toEqual([]);
    await advance(1_000);
    expect(world.ran).toEqual([REVERT]);
  });

  it('across reboots it carries what the earlier boots counted, whatever the wall clock did', async () => {
    const { world, make, advance, stored } = device();
    const config = {
      command: VALIDATE,
      when: 'connected',
      deadlineMs: 600_000,
      revertCommand: REVERT,
    } as const;
    const first = make(config);
    first.start();
    await advance(300_000);
    first.stop();
    // Power cut, new boot, and a device without an RTC: the wall clock is back at 1970 until NTP answers.
    world.bootId = 'boot-2';
    world.uptime = 4_000;
    world.wall = 0;
    world.timers = [];
    const second = make(config);
    second.start();
    expect(stored().unvalidated).toMatchObject({
      carried_ms: 300_000,
      boot_id: 'boot-2',
      first_started_at: '2026-12-07T15:30:00.000Z',
    });
    world.wall = WALL_START + 3_600_000; // NTP steps the clock
    await advance(299_000);
    expect(world.ran).toEqual([]);
    await advance(1_000);
    expect(world.ran).toEqual([REVERT]);
  });

  it('holds back an offer while unvalidated, then ignores the first offer of a firmware it rolled back', async () => {
    const { world, make, advance, stored } = device();
    const config = { command: VALIDATE, when: 'manual', deadlineMs: 600_000, revertCommand: REVERT } as const;
    const onB = make(config);
    onB.start();
    onB.joined();
    await advance(60_000);
    const held = onB.offerVerdict(
      offer('c0ffee00-0000-4000-8000-000000000003'),
      facts('c0ffee00-0000-4000-8000-000000000003', 7),
    );
    expect(held).toMatchObject({ kind: 'answered', status: 'rescheduled', delayMs: 600_000 });
    expect(held && 'reason' in held && held.reason).toMatch(
      new RegExp(
        `^firmware ${B.uuid} \\(2\\.0\\.0\\) is not validated yet: writing the other slot now would overwrite the only known-good firmware; it validates with \`nerves-hub-link validate\``,
      ),
    );
    await advance(540_000);
    expect(world.reboots).toHaveLength(1);
    onB.stop();

    // Back on A after the reboot: the revert record is there, the first offer of B is ignored with why.
    world.validated = true;
    world.timers = [];
    const onA = make(config, A);
    onA.start();
    const first = onA.offerVerdict(offer(B.uuid), facts(B.uuid, 7));
    expect(first).toMatchObject({
      kind: 'answered',
      status: 'ignored',
      reason:
        `firmware ${B.uuid} (2.0.0) was rolled back on 2026-12-07 15:40 UTC: it was not validated within 10 min ` +
        '(nothing ran `nerves-hub-link validate` or validated it otherwise)',
    });
    expect(stored().last_revert.offer_answered).toBe(true);
    expect(onA.offerVerdict(offer(B.uuid), facts(B.uuid, 7))).toBeUndefined();
    expect(onA.status()).toMatchObject({ state: 'validated', last_revert: { uuid: B.uuid, by: 'daemon' } });
  });

  it('records a revert by the bootloader once, and again when the same firmware is tried and fails again', async () => {
    const { world, make, stored } = device();
    world.validated = false;
    const config = {
      command: VALIDATE,
      when: 'connected',
      deadlineMs: 600_000,
      revertCommand: REVERT,
    } as const;
    make(config).start(); // the daemon starts on B, then crashes before it validates
    world.validated = true;
    const onA = make(config, A, { bootloaderReverted: B });
    onA.start();
    expect(stored().last_revert).toMatchObject({ uuid: B.uuid, by: 'bootloader', offer_answered: false });
    expect(onA.offerVerdict(offer(B.uuid), facts(B.uuid))).toMatchObject({ status: 'ignored' });
    // Every later start on A still sees B's unvalidated slot: no new record, no new ignore.
    const again = make(config, A, { bootloaderReverted: B });
    again.start();
    expect(again.offerVerdict(offer(B.uuid), facts(B.uuid))).toBeUndefined();
  });

  it('a validation command that leaves the firmware unvalidated is an error naming it and the environment', async () => {
    const { world, make } = device();
    const validator = make({ command: ['true'], when: 'connected' });
    validator.start();
    validator.joined();
    await settle();
    expect(world.logs).toContain(
      'error validation.command (true) ran, but the firmware still reads unvalidated: upgrade_available=1; trying again in 10 s',
    );
    expect(validator.validated).toBe(false);
  });

  it('notices a firmware validated by someone else within its poll, and tells NervesHub', async () => {
    const { world, make, advance } = device();
    const validator = make({ when: 'connected' });
    validator.start();
    validator.joined();
    world.validated = true;
    await advance(VALIDATION_RETRY_MS);
    expect(world.reported).toBe(1);
    expect(validator.validated).toBe(true);
  });

  it('a failing revert command leaves the device where it is, without a reboot', async () => {
    const { world, make, advance } = device();
    world.fail.set(REVERT[0]!, 'exited with status 1: no such task');
    const validator = make({ when: 'connected', deadlineMs: 10_000, revertCommand: REVERT });
    validator.start();
    await advance(10_000);
    expect(world.reboots).toEqual([]);
    expect(validator.status()).toMatchObject({
      state: 'revert-failed',
      note: 'the roll-back failed: validation.revert_command (fwup -t revert) failed: exited with status 1: no such task',
      last_revert: null,
    });
  });

  it('waits in steps for a deadline longer than a timer can hold', async () => {
    const { world, make, advance } = device();
    const validator = make({ when: 'connected', deadlineMs: 30 * 86_400_000, revertCommand: REVERT }, B, {
      saveIntervalMs: 3_600_000,
    });
    validator.start();
    expect(Math.max(...world.timers.map((timer) => timer.at - 5_000))).toBeLessThanOrEqual(86_400_000);
    await advance(30 * 86_400_000 - 1);
    expect(world.ran).toEqual([]);
    await advance(1);
    expect(world.ran).toEqual([REVERT]);
  });
});
