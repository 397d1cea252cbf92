// Hostile hooks and a hostile server against the daemon, in this process on a clock the test moves by hand,
// asserting what NervesHub records (the test-server's device page) across the real socket. Each case was a flood:
// a tiny reschedule asked NervesHub again and again, a delay past 24.8 days spun, a burst of failures forked a
// crowd of on_error hooks, a failing before_reboot held the reboot back for good.
import { appendFileSync, chmodSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fakeFwupPath } from '@nerves-hub-link/test-server';
import { ManualClock, runningMembers } from '@nerves-hub-link/test-server/testing';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { OBSERVER_STOP_WAIT_MS } from '../src/hooks/operator-policy.js';
import { STATUS_BOUND } from '../src/update/constants.js';
import { createDevice, type Device, useTestServer } from './support/harness.js';
import { type InProcessDaemon, OFFER_OUTCOME, runInProcess } from './support/in-process.js';
import { until } from './support/output.js';

const SECOND = 1_000;
const MINUTE = 60 * SECOND;
const DAY = 24 * 60 * MINUTE;

// One clock per test, each starting where the last one ended: the server's records never go back in time, and
// no daemon of another test has anything scheduled on it.
let clock = new ManualClock({ startAt: Date.now(), frozen: true });
const e2e = useTestServer('daemon-hostile-operators-', ['small-signed.fw', 'small-signed-tampered.fw'], {
  server: { now: () => clock.now() },
});

const running: InProcessDaemon[] = [];
beforeEach(() => {
  clock = new ManualClock({ startAt: clock.now(), frozen: true });
});
afterEach(async () => {
  await Promise.all(running.splice(0).map((each) => each.stopAndWait()));
});

/** Waits until the statuses the device sent have all reached the server: none came for a while. */
async function delivered(identifier: string): Promise<void> {
  const count = () => e2e.server.device(identifier).events.length;
  for (let last = -1; last !== count(); ) {
    last = count();
    await sleep(100);
  }
}

async function start(device: Device): Promise<InProcessDaemon> {
  const daemon = await runInProcess(device, { clock, logFormat: 'json', logLevel: 'debug' });
  running.push(daemon);
  await e2e.server.waitForJoin(device.identifier);
  return daemon;
}

function configure(device: Device, lines: string[]): void {
  appendFileSync(device.configFile, `${lines.join('\n')}\n`);
}

/**
 * A hook that gives the answers in turn, over and over: a line to print (printf %b: escapes allowed), or `sh:…`
 * to run instead. It records each call, with NERVES_HUB_REASON.
 */
function answeringHook(device: Device, name: string, answers: readonly string[]) {
  const dir = device.dir;
  const calls = join(dir, `${name}.calls`);
  const list = join(dir, `${name}.answers`);
  writeFileSync(list, `${answers.join('\n')}\n`);
  const path = join(dir, `${name}.sh`);
  writeFileSync(
    path,
    [
      '#!/bin/sh',
      `n=$(cat ${calls} 2>/dev/null | wc -l)`,
      `echo "$NERVES_HUB_REASON" >> ${calls}`,
      `line=$(sed -n "$(( n % ${answers.length} + 1 ))p" ${list})`,
      'case "$line" in sh:*) eval "$(printf %s "$line" | cut -c4-)";; *) printf "%b\\n" "$line";; esac',
      '',
    ].join('\n'),
  );
  chmodSync(path, 0o755);
  const reasons = () => (existsSync(calls) ? readFileSync(calls, 'utf8').split('\n').slice(0, -1) : []);
  return {
    command: `["${path}"]`,
    calls: () => reasons().length,
    reasons,
  };
}

/** The update push NervesHub would send for `small-signed.fw`, for pushes the server does not record (hostile ones). */
function rawOffer(changes: { uuid?: string; checksum?: string; deploymentId?: number | null } = {}) {
  const payload = e2e.server.firmwareHost.updatePayload(e2e.server.url, e2e.firmware('small-signed.fw').id, {
    deploymentId: changes.deploymentId ?? null,
  });
  return {
    ...payload,
    firmware_meta: { ...payload.firmware_meta, ...(changes.uuid ? { uuid: changes.uuid } : {}) },
    ...(changes.checksum ? { checksum: changes.checksum } : {}),
  };
}

/** What the device page shows that the device's statuses caused: attempts, and history lines with their times. */
function deviceCaused(identifier: string) {
  const page = e2e.server.records(identifier)!;
  const history = page.history.filter((entry) =>
    ['status', 'failed', 'ignored', 'rescheduled'].includes(entry.event),
  );
  return {
    page,
    attempts: page.updateAttempts.map((at) => Date.parse(at)),
    history,
    historyTimes: history.map((entry) => Date.parse(entry.at)),
  };
}

/** The most of `times` that fall within any window of `windowMs` (both ends inside). */
function mostWithin(times: readonly number[], windowMs: number): number {
  const sorted = [...times].sort((a, b) => a - b);
  let most = 0;
  for (let i = 0, j = 0; j < sorted.length; j++) {
    while (sorted[j]! - sorted[i]! >= windowMs) i++;
    most = Math.max(most, j - i + 1);
  }
  return most;
}

/** What ends something that fell due on the clock: the answer to a re-asked offer, or to a reboot question. */
const DUE_OUTCOME = new RegExp(`${OFFER_OUTCOME.source}|reboot postponed by |^rebooting: `);

/** Moves the clock by `totalMs` in steps; whatever falls due in a step (a re-ask, a reboot question) is let finish. */
async function runFor(daemon: InProcessDaemon, totalMs: number, stepMs: number): Promise<void> {
  for (let moved = 0; moved < totalMs; moved += stepMs) {
    const outcomes = daemon.messages(DUE_OUTCOME).length;
    const pending = clock.pending().length;
    clock.advance(stepMs);
    const fell = pending - clock.pending().length;
    if (fell > 0) {
      await until(
        'what fell due to be answered',
        () => daemon.messages(DUE_OUTCOME).length >= outcomes + fell,
      );
    }
  }
}

describe('a hook that answers "reschedule 1" to a manual push', () => {
  it('is asked again every 5 minutes, with its answer and the raise logged; NervesHub counts one attempt each', async () => {
    const device = await createDevice(e2e.server, e2e.root, 'reschedule-one');
    const hook = answeringHook(device, 'may-update', ['reschedule 1']);
    configure(device, ['[hooks]', `update_available = ${hook.command}`]);
    const daemon = await start(device);
    const pushedAt = clock.now();
    expect(e2e.server.sendUpdate(device.identifier, e2e.firmware('small-signed.fw').id)).toBe(true);
    await until('the first answer', () => clock.pending().length === 1);

    await runFor(daemon, 10 * MINUTE, 10 * SECOND);
    await delivered(device.identifier);

    // Asked at 0, 5 and 10 minutes: some 200 times in 5 s before the floor.
    expect(hook.calls()).toBe(3);
    const { attempts, page } = deviceCaused(device.identifier);
    expect(attempts.map((at) => at - pushedAt)).toEqual([0, 5 * MINUTE, 10 * MINUTE]);
    const delays = e2e.server
      .device(device.identifier)
      .events.filter((event) => event.payload?.status === 'rescheduled')
      .map((event) => event.payload.delay_for);
    expect(delays).toEqual([300_000, 300_000, 300_000]);
    expect(page.history.filter((entry) => entry.event === 'rescheduled')).toHaveLength(3);
    expect(daemon.messages(/^hooks\.update_available asked to wait 1 ms/)).toHaveLength(3);
    expect(
      daemon.messages(
        /the delay of a rescheduled offer, 1 ms, was raised to 5 min \(the shortest reschedule the device sends NervesHub and asks again after\)$/,
      ),
    ).toHaveLength(3);
    await daemon.stopAndWait();
  });
});

describe('a before_reboot that answers "reschedule 25d" (updates.reboot_policy = "hook")', () => {
  it('waits 25 days, not a moment: no TimeoutOverflowWarning, no loop, and offers meanwhile cost nothing', async () => {
    const warnings: string[] = [];
    const onWarning = (warning: Error) => warnings.push(`${warning.name}: ${warning.message}`);
    process.on('warning', onWarning);
    try {
      const device = await createDevice(e2e.server, e2e.root, 'reboot-25d');
      const hook = answeringHook(device, 'before-reboot', ['reschedule 25d after the season']);
      configure(device, [
        '[hooks]',
        `before_reboot = ${hook.command}`,
        '[updates]',
        'reboot_policy = "hook"',
      ]);
      const daemon = await start(device);
      expect(e2e.server.sendUpdate(device.identifier, e2e.firmware('small-signed.fw').id)).toBe(true);
      await until('the reboot to be postponed', () => clock.pending().length === 1, 30_000);
      const attemptsBefore = deviceCaused(device.identifier).attempts.length;

      await runFor(daemon, 2 * 60 * MINUTE, MINUTE);
      expect(hook.calls()).toBe(1);
      // An offer while the written firmware waits: no status, so no attempt and no penalty box.
      e2e.server.push(
        device.identifier,
        'update',
        rawOffer({ uuid: 'c0ffee00-0000-4000-8000-000000000025' }),
      );
      await until(
        'the offer to be left unanswered',
        () => daemon.messages(/not answered: firmware .* is written/).length === 1,
      );

      await runFor(daemon, 25 * DAY - 2 * 60 * MINUTE, 12 * 60 * MINUTE);
      await delivered(device.identifier);
      expect(hook.calls()).toBe(2);
      expect(daemon.messages(/^rebooting/)).toEqual([]);
      const { attempts, history } = deviceCaused(device.identifier);
      expect(attempts).toHaveLength(attemptsBefore);
      expect(history.map((entry) => entry.event)).not.toContain('ignored');
      await daemon.stopAndWait();
    } finally {
      process.off('warning', onWarning);
    }
    expect(warnings.filter((warning) => warning.startsWith('TimeoutOverflowWarning'))).toEqual([]);
  });
});

describe('a before_reboot that always fails (updates.reboot_policy = "hook")', () => {
  it('holds the reboot back hooks.before_reboot_max_failures times, then the device reboots; offers meanwhile cost nothing', async () => {
    const device = await createDevice(e2e.server, e2e.root, 'reboot-broken');
    configure(device, ['[hooks]', 'before_reboot = ["false"]', '[updates]', 'reboot_policy = "hook"']);
    const daemon = await start(device);
    expect(e2e.server.sendUpdate(device.identifier, e2e.firmware('small-signed.fw').id)).toBe(true);
    await until('the first failure', () => clock.pending().length === 1, 30_000);
    for (let i = 0; i < 5; i++) {
      e2e.server.push(
        device.identifier,
        'update',
        rawOffer({ uuid: `c0ffee00-0000-4000-8000-00000000000${i}` }),
      );
    }
    await until(
      'the offers to be left unanswered',
      () => daemon.messages(/not answered: firmware .* is written/).length === 5,
    );
    clock.advance(5 * MINUTE);
    await until('the second failure', () => clock.pending().length === 1);
    clock.advance(5 * MINUTE);
    const exit = await daemon.exited;
    expect(exit).toEqual({ code: 0, signal: null });
    await delivered(device.identifier);
    expect(daemon.messages(/^would reboot now$/)).toHaveLength(1);
    expect(
      daemon.messages(
        /^hooks\.before_reboot exited with status 1; it failed 3 times in a row, rebooting now/,
      ),
    ).toHaveLength(1);
    const { attempts, history } = deviceCaused(device.identifier);
    expect(attempts).toHaveLength(1);
    expect(history.map((entry) => entry.event)).not.toContain('ignored');
    expect(e2e.server.records(device.identifier)!.inPenaltyBox).toBe(false);
  });
});

describe('a burst of 100 failing offers, each telling on_error (which takes 20 s)', () => {
  it('runs one on_error at a time, and a stop waits for it at most a few seconds', async () => {
    const device = await createDevice(e2e.server, e2e.root, 'on-error-burst');
    const pids = join(device.dir, 'on-error.pids');
    configure(device, ['[hooks]', `on_error = ["sh", "-c", "echo $$ >> ${pids}; sleep 20"]`]);
    const daemon = await start(device);
    const alive = () =>
      existsSync(pids)
        ? readFileSync(pids, 'utf8')
            .trim()
            .split('\n')
            .filter((pid) => runningMembers(Number(pid)).length > 0).length
        : 0;
    let most = 0;
    for (let i = 0; i < 100; i++) {
      const before = daemon.messages(/^update \S+ failed: /).length;
      const uuid = `badc0ded-0000-4000-8000-${String(i).padStart(12, '0')}`;
      e2e.server.push(device.identifier, 'update', rawOffer({ uuid, checksum: 'not-a-sha256' }));
      await until('the failure', () => daemon.messages(/^update \S+ failed: /).length > before);
      most = Math.max(most, alive());
    }
    expect(daemon.messages(/malformed checksum/).length).toBeGreaterThanOrEqual(100);
    expect(most).toBe(1);
    expect(
      daemon.messages(/^hooks\.on_error not told about the failure of update/).length,
    ).toBeGreaterThanOrEqual(98);
    const stopMs = await daemon.stopAndWait();
    // The running on_error gets OBSERVER_STOP_WAIT_MS, then SIGTERM (it ends at once); 17 s before the bound.
    expect(stopMs).toBeLessThan(OBSERVER_STOP_WAIT_MS + 3_000);
    expect(alive()).toBe(0);
  }, 60_000);
});

describe('a server that offers a broken firmware again and again', () => {
  it('each offer is tried (two a minute at most), and after 3 failures in 10 minutes the next is answered rescheduled', async () => {
    const device = await createDevice(e2e.server, e2e.root, 'fails-again');
    const daemon = await start(device);
    const firmware = e2e.firmware('small-signed-tampered.fw');
    const offer = () =>
      e2e.server.push(
        device.identifier,
        'update',
        e2e.server.firmwareHost.updatePayload(e2e.server.url, firmware.id),
      );
    const sent = () =>
      e2e.server
        .device(device.identifier)
        .events.filter((event) => event.event === 'status_update')
        .map((event) => event.payload);
    for (let attempt = 1; attempt <= 3; attempt++) {
      offer();
      await until(
        'the failure',
        () => sent().filter((status) => status.status === 'failed').length === attempt,
      );
      clock.advance(STATUS_BOUND.windowMs / STATUS_BOUND.offers);
    }
    offer();
    await until('the guard', () => sent().some((status) => status.status === 'rescheduled'));
    await delivered(device.identifier);
    expect(sent().slice(-2)).toEqual([
      { status: 'received' },
      {
        status: 'rescheduled',
        delay_for: 600_000,
        reason: expect.stringMatching(/failed 3 times on this device in the last 10 minutes/),
      },
    ]);
    expect(daemon.messages(/^update \S+: verifying$/)).toHaveLength(3);
    await daemon.stopAndWait();
  });
});

describe('a deployment of a firmware fwup refuses, offered again as each penalty ends', () => {
  it('one attempt each, the penalty box with the reason; after 3 the failure threshold blocks it without an offer', async () => {
    const device = await createDevice(e2e.server, e2e.root, 'view-refused-image');
    const firmware = e2e.firmware('small-signed-tampered.fw');
    const daemon = await start(device);
    const failures = () =>
      e2e.server
        .device(device.identifier)
        .events.filter((event) => event.event === 'status_update' && event.payload.status === 'failed')
        .length;
    const deployment = e2e.server.createDeployment({
      firmwareId: firmware.id,
      devices: [device.identifier],
      penaltyTimeoutMinutes: 60,
    });
    await until('the first failure', () => failures() === 1);
    let page = await e2e.server.waitForRecords(device.identifier, (each) => each.inflightUpdate === null);
    expect(page.updateAttempts).toHaveLength(1);
    expect(page.inPenaltyBox).toBe(true);
    expect(Date.parse(page.updatesBlockedUntil!) - clock.now()).toBe(60 * MINUTE);
    expect(page.history).toContainEqual(
      expect.objectContaining({ event: 'failed', reason: expect.stringMatching(/^FWUP error : /) }),
    );
    // Blocked: the orchestrator passes it by.
    expect(e2e.server.runOrchestrator(deployment.id)).toEqual([]);

    // Each penalty that ends (an hour on the device's clock and the server's) brings one more offer and attempt.
    for (const attempt of [2, 3]) {
      clock.advance(61 * MINUTE);
      e2e.server.advanceClock(0);
      await until('the next failure', () => failures() === attempt);
      page = await e2e.server.waitForRecords(
        device.identifier,
        (each) => each.inflightUpdate === null && each.updateAttempts.length === attempt,
      );
      expect(page.inPenaltyBox).toBe(true);
    }
    // Three attempts reach the group's device_failure_threshold: blocked again without an offer.
    clock.advance(61 * MINUTE);
    e2e.server.advanceClock(0);
    expect(e2e.server.runOrchestrator(deployment.id)).toEqual([]);
    page = e2e.server.records(device.identifier)!;
    expect(page.inPenaltyBox).toBe(true);
    expect(page.history.at(-1)).toMatchObject({ event: 'blocked', reason: 'exceeded failure threshold' });
    await delivered(device.identifier);
    expect(failures()).toBe(3);
    expect(daemon.messages(/^update \S+: applying$/)).toEqual([]);
  });
});

describe('a minute of hostile pushes and answers', () => {
  it(`NervesHub hears at most ${STATUS_BOUND.offers} attempts and 8 statuses of one update a minute, and no loop`, async () => {
    const device = await createDevice(e2e.server, e2e.root, 'hostile-minute');
    const hook = answeringHook(device, 'may-update', [
      'reschedule 1',
      'sh:exit 21',
      'reschedule 0 now',
      'reschedule 25d much later',
      '\\033[2J\\033]0;pwned\\007garbage',
      'sh:exit 3',
      'ignore not now',
      'reschedule 1s',
    ]);
    configure(device, ['[hooks]', `update_available = ${hook.command}`, 'timeout_ms = 2000']);
    const daemon = await start(device);
    const startedAt = clock.now();
    // Two pushes of the same firmware every second, the second while the first is decided, some from the device
    // page (refused while a record is open) and the rest raw, as a server that misbehaves sends them.
    for (let second = 0; second < 60; second++) {
      const outcomes = daemon.messages(OFFER_OUTCOME).length;
      let sent = 0;
      if (second % 10 === 0 && e2e.server.sendUpdate(device.identifier, e2e.firmware('small-signed.fw').id))
        sent++;
      for (; sent < 2; sent++) e2e.server.push(device.identifier, 'update', rawOffer());
      await until('both offers to be handled', () => daemon.messages(OFFER_OUTCOME).length >= outcomes + 2);
      clock.advance(SECOND);
    }
    await delivered(device.identifier);
    const inTheMinute = deviceCaused(device.identifier);
    expect(inTheMinute.attempts.length).toBeLessThanOrEqual(STATUS_BOUND.offers);
    expect(inTheMinute.attempts.length).toBeGreaterThan(0);
    const statuses = e2e.server
      .device(device.identifier)
      .events.filter((event) => event.event === 'status_update');
    expect(statuses.length).toBeLessThanOrEqual(8);
    expect(hook.calls()).toBe(inTheMinute.attempts.length);

    // Ten more minutes: only the device's own re-asks, at most one every 5 minutes.
    await runFor(daemon, 10 * MINUTE, 10 * SECOND);
    await delivered(device.identifier);
    const after = deviceCaused(device.identifier);
    expect(mostWithin(after.attempts, MINUTE)).toBeLessThanOrEqual(STATUS_BOUND.offers);
    expect(mostWithin(after.historyTimes, MINUTE)).toBeLessThanOrEqual(2 * STATUS_BOUND.offers);
    expect(after.attempts.filter((at) => at > startedAt + MINUTE).length).toBeLessThanOrEqual(2);
    // Each final status went out with a delay NervesHub can hold, never below the floor.
    for (const event of e2e.server.device(device.identifier).events) {
      if (event.payload?.status !== 'rescheduled') continue;
      expect(event.payload.delay_for).toBeGreaterThanOrEqual(5 * MINUTE);
      expect(event.payload.delay_for).toBeLessThanOrEqual(30 * DAY);
    }
    expect(after.page.inflightUpdate).toBeNull();
    await daemon.stopAndWait();
  }, 60_000);
});

describe("hooks that misbehave, on the daemon's clock", () => {
  it('a hook that hangs, fails or prints garbage never bricks updates: each is rescheduled with its reason, then it applies', async () => {
    const device = await createDevice(e2e.server, e2e.root, 'hook-misbehaves');
    const hook = answeringHook(device, 'may-update', [
      'sh:sleep 30',
      'sh:echo cannot reach the line controller >&2; exit 3',
      '\\033[1mYES!\\033[0m',
      'apply',
    ]);
    configure(device, ['[hooks]', `update_available = ${hook.command}`, 'timeout_ms = 500']);
    const daemon = await start(device);
    expect(e2e.server.sendUpdate(device.identifier, e2e.firmware('small-signed.fw').id)).toBe(true);
    await until('the hang to be rescheduled', () => clock.pending().length === 1);
    await runFor(daemon, 10 * MINUTE, 30 * SECOND);
    clock.advance(5 * MINUTE);
    expect(await daemon.exited).toEqual({ code: 0, signal: null });
    await delivered(device.identifier);
    const events = e2e.server.device(device.identifier).events;
    const rescheduled = events.filter((event) => event.payload?.status === 'rescheduled');
    expect(rescheduled.map((event) => event.payload.reason)).toEqual([
      'hooks.update_available timed out after 500 ms and was killed; rescheduled for 5 min by hooks.on_hook_failure',
      'hooks.update_available exited with status 3: cannot reach the line controller; rescheduled for 5 min by hooks.on_hook_failure',
      'hooks.update_available printed "\\x1b[1mYES!\\x1b[0m", not apply, ignore or reschedule; rescheduled for 5 min by hooks.on_hook_failure',
    ]);
    expect(rescheduled.map((event) => event.payload.delay_for)).toEqual([300_000, 300_000, 300_000]);
    const statuses = events
      .filter((event) => event.event === 'status_update')
      .map((event) => event.payload.status);
    expect(statuses.slice(-3)).toEqual(['received', 'started', 'completed']);
    expect(daemon.messages(/asking again in 5 min \(hooks\.on_hook_failure = "reschedule"\)$/)).toHaveLength(
      3,
    );
  }, 30_000);

  it('reboot_policy = "hook": before_reboot postpones the reboot (at least a minute), then allows it; after_apply runs before it', async () => {
    const device = await createDevice(e2e.server, e2e.root, 'hook-reboot');
    const hook = answeringHook(device, 'before-reboot', ['reschedule 1500 operator on site', '']);
    const marker = join(device.dir, 'after-apply-ran');
    configure(device, [
      '[hooks]',
      `after_apply = ["touch", "${marker}"]`,
      `before_reboot = ${hook.command}`,
      '[updates]',
      'reboot_policy = "hook"',
    ]);
    const daemon = await start(device);
    expect(e2e.server.sendUpdate(device.identifier, e2e.firmware('small-signed.fw').id)).toBe(true);
    await until('the reboot to be postponed', () => clock.pending().length === 1, 30_000);
    expect(existsSync(marker)).toBe(true);
    expect(
      daemon.messages(/^hooks\.before_reboot asked to wait 2 s \(1500 ms\): operator on site$/),
    ).toHaveLength(1);
    expect(daemon.messages(/reboot postponed by 60 s: operator on site$/)).toHaveLength(1);
    const state = JSON.parse(readFileSync(join(device.dataDir, 'status.json'), 'utf8'));
    expect(state.update).toMatchObject({ stage: 'awaiting-reboot' });
    expect(state.reboot).toMatchObject({ reason: 'the new firmware is written' });
    clock.advance(59 * SECOND);
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(hook.calls()).toBe(1);
    clock.advance(SECOND);
    expect(await daemon.exited).toEqual({ code: 0, signal: null });
    expect(daemon.messages(/^would reboot now$/)).toHaveLength(1);
    expect(hook.reasons()).toEqual(['the new firmware is written', 'the new firmware is written']);
  }, 30_000);
});

/** The process group a command started under `sh -c "echo $$ > pidFile; …"` leads, once it runs. */
async function groupOf(pidFile: string): Promise<number> {
  const pgid = await until('the command to start', () =>
    existsSync(pidFile) && readFileSync(pidFile, 'utf8').trim() !== ''
      ? Number(readFileSync(pidFile, 'utf8'))
      : undefined,
  );
  await until('its children to start', () => runningMembers(pgid).length >= 2);
  return pgid;
}

describe('a stop ends everything the daemon started', () => {
  it('fwup -V is stopped with its group, at once: no status, the download removed', async () => {
    const device = await createDevice(e2e.server, e2e.root, 'stop-during-verify');
    const pidFile = join(device.dir, 'verify.pid');
    const wrapper = join(device.dir, 'slow-fwup.sh');
    // A fwup whose -V takes long (a large archive on slow storage).
    writeFileSync(
      wrapper,
      [
        '#!/bin/sh',
        `[ "$1" = "-V" ] && { echo $$ > ${pidFile}; sleep 30 & wait; }`,
        `exec "${process.execPath}" "${fakeFwupPath}" "$@"`,
        '',
      ].join('\n'),
    );
    chmodSync(wrapper, 0o755);
    writeFileSync(
      device.configFile,
      readFileSync(device.configFile, 'utf8').replace(/^path = .*$/m, `path = "${wrapper}"`),
    );
    const daemon = await start(device);
    expect(e2e.server.sendUpdate(device.identifier, e2e.firmware('small-signed.fw').id)).toBe(true);
    const pgid = await groupOf(pidFile);
    const stopMs = await daemon.stopAndWait();
    expect(stopMs).toBeLessThan(2_500);
    expect(runningMembers(pgid)).toEqual([]);
    await delivered(device.identifier);
    const statuses = e2e.server
      .device(device.identifier)
      .events.filter((event) => event.event === 'status_update')
      .map((event) => event.payload.status);
    expect(statuses).toEqual(['received', 'started']);
    expect(device.downloads()).toEqual([]);
  });

  it('identify and a before_reboot being asked are stopped with their groups', async () => {
    const device = await createDevice(e2e.server, e2e.root, 'stop-commands');
    const identifyPid = join(device.dir, 'identify.pid');
    const rebootPid = join(device.dir, 'before-reboot.pid');
    writeFileSync(
      device.configFile,
      readFileSync(device.configFile, 'utf8').replace(
        '[commands]\n',
        () => `[commands]\nidentify = ["sh", "-c", "echo $$ > ${identifyPid}; sleep 30 & sleep 30"]\n`,
      ),
    );
    configure(device, [
      '[hooks]',
      `before_reboot = ["sh", "-c", "echo $$ > ${rebootPid}; sleep 30 & sleep 30"]`,
      '[updates]',
      'reboot_policy = "hook"',
    ]);
    const daemon = await start(device);
    e2e.server.push(device.identifier, 'identify', {});
    const identify = await groupOf(identifyPid);
    e2e.server.push(device.identifier, 'reboot', {});
    const beforeReboot = await groupOf(rebootPid);
    const stopMs = await daemon.stopAndWait();
    expect(stopMs).toBeLessThan(2_500);
    expect(runningMembers(identify)).toEqual([]);
    expect(runningMembers(beforeReboot)).toEqual([]);
    expect(daemon.messages(/^identify stopped: the daemon is stopping$/)).toHaveLength(1);
  });
});
