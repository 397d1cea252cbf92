import { REASON_MAX_CHARS } from '@nerves-hub-link/message-text';
import { describe, expect, it } from 'vitest';
import { interpretBeforeReboot, interpretPreparation, interpretUpdateAvailable } from './hook-protocol.js';
import type { HookOutcome } from './hook-runner.js';

const OPTIONS = { timeoutMs: 5_000, defaultDelayMs: 300_000 };
const exited = (code: number, stdout = '', stderr = ''): HookOutcome => ({
  kind: 'exited',
  code,
  stdout,
  stderr,
  durationMs: 3,
});

describe('update_available answers', () => {
  const decide = (outcome: HookOutcome) => interpretUpdateAvailable(outcome, OPTIONS);

  it('exit 0 with no output, or "apply", applies', () => {
    expect(decide(exited(0))).toEqual({ kind: 'apply' });
    expect(decide(exited(0, '\n  \n'))).toEqual({ kind: 'apply' });
    expect(decide(exited(0, 'apply\n'))).toEqual({ kind: 'apply' });
    expect(decide(exited(0, 'APPLY'))).toEqual({ kind: 'apply' });
  });

  it('the answer is the last non-empty line; earlier lines are the hook’s own chatter', () => {
    expect(decide(exited(0, 'checking the battery…\nbattery at 80 %\nignore not today\n\n'))).toEqual({
      kind: 'ignore',
      reason: 'not today',
    });
  });

  it('"ignore" with or without a reason', () => {
    expect(decide(exited(0, 'ignore'))).toEqual({
      kind: 'ignore',
      reason: 'ignored by hooks.update_available',
    });
    expect(decide(exited(0, 'ignore   pinned to 1.0 by the field team '))).toEqual({
      kind: 'ignore',
      reason: 'pinned to 1.0 by the field team',
    });
  });

  it('"reschedule <ms> [reason]" gives an integer delay in milliseconds; units are accepted', () => {
    expect(decide(exited(0, 'reschedule 60000 machine is busy'))).toEqual({
      kind: 'reschedule',
      delayMs: 60_000,
      reason: 'machine is busy',
    });
    expect(decide(exited(0, 'reschedule 15m'))).toEqual({
      kind: 'reschedule',
      delayMs: 900_000,
      reason: 'rescheduled by hooks.update_available',
    });
    expect(decide(exited(0, 'reschedule 1h30m shift change'))).toMatchObject({ delayMs: 5_400_000 });
  });

  it('reads any delay as written, however short or long: its floor and ceiling are applied where it is waited on', () => {
    expect(decide(exited(0, 'reschedule 0 now'))).toMatchObject({ kind: 'reschedule', delayMs: 0 });
    expect(decide(exited(0, 'reschedule 1'))).toMatchObject({ kind: 'reschedule', delayMs: 1 });
    expect(decide(exited(0, 'reschedule 99999999999'))).toMatchObject({ delayMs: 99_999_999_999 });
    expect(decide(exited(0, 'reschedule 25d'))).toMatchObject({ delayMs: 25 * 86_400_000 });
  });

  it('exit 21 reschedules by the default delay, or by the delay the answer names', () => {
    expect(decide(exited(21))).toEqual({
      kind: 'reschedule',
      delayMs: 300_000,
      reason: 'rescheduled by hooks.update_available',
    });
    expect(decide(exited(21, 'vehicle is moving'))).toEqual({
      kind: 'reschedule',
      delayMs: 300_000,
      reason: 'vehicle is moving',
    });
    expect(decide(exited(21, 'reschedule 120000 vehicle is moving'))).toEqual({
      kind: 'reschedule',
      delayMs: 120_000,
      reason: 'vehicle is moving',
    });
    // A bad delay with exit 21 still means "later": the default, keeping what it said as the reason.
    expect(decide(exited(21, 'reschedule soon'))).toEqual({
      kind: 'reschedule',
      delayMs: 300_000,
      reason: 'soon',
    });
  });

  it('anything else is a hook failure that says what happened', () => {
    const cases: Array<[HookOutcome, RegExp]> = [
      [
        exited(0, 'yes please'),
        /^hooks\.update_available printed "yes please", not apply, ignore or reschedule$/,
      ],
      [exited(0, 'reschedule'), /answered "reschedule" with no delay; expected milliseconds or a duration/],
      [exited(0, 'reschedule -5'), /answered "reschedule" with "-5"/],
      [exited(0, 'reschedule 1.5s'), /answered "reschedule" with "1\.5s"/],
      // Past Number.MAX_SAFE_INTEGER: not a number the daemon can wait on.
      [exited(0, 'reschedule 99999999999999999999'), /answered "reschedule" with "99999999999999999999"/],
      [
        exited(3, '', 'disk check failed\n'),
        /^hooks\.update_available exited with status 3: disk check failed$/,
      ],
      [exited(1, 'only stdout'), /exited with status 1: only stdout$/],
      [
        { kind: 'timed-out', stdout: '', stderr: '', durationMs: 5000 },
        /^hooks\.update_available timed out after 5000 ms and was killed$/,
      ],
      [
        { kind: 'signalled', signal: 'SIGSEGV', stdout: '', stderr: '', durationMs: 1 },
        /was killed by SIGSEGV/,
      ],
      [{ kind: 'not-started', message: 'program not found: /x' }, /could not start: program not found: \/x/],
    ];
    for (const [outcome, problem] of cases) {
      const decision = decide(outcome);
      expect(decision.kind).toBe('hook-failed');
      expect((decision as { problem: string }).problem).toMatch(problem);
    }
  });

  it('escapes control characters and bounds the reason', () => {
    const decision = decide(exited(0, `ignore \u001b[31mred\u0007 ${'x'.repeat(1000)}`));
    expect(decision.kind).toBe('ignore');
    const reason = (decision as { reason: string }).reason;
    expect(reason.startsWith('\\x1b[31mred\\x07 xxx')).toBe(true);
    expect(reason.length).toBeLessThanOrEqual(REASON_MAX_CHARS);
    expect(reason).toMatch(/x… \(1010 characters\)$/);
    // Garbage is quoted escaped and short in the problem, too.
    const garbage = decide(exited(0, `\u0000\u0001${'y'.repeat(500)}`));
    expect((garbage as { problem: string }).problem).toMatch(/printed "\\x00\\x01y+… \(502 characters\)"/);
    expect((garbage as { problem: string }).problem.length).toBeLessThan(160);
  });
});

describe('before_reboot answers (updates.reboot_policy = "hook")', () => {
  const decide = (outcome: HookOutcome) => interpretBeforeReboot(outcome, OPTIONS);

  it('exit 0 (or "reboot") reboots now; reschedule or exit 21 postpones', () => {
    expect(decide(exited(0))).toEqual({ kind: 'reboot' });
    expect(decide(exited(0, 'reboot'))).toEqual({ kind: 'reboot' });
    expect(decide(exited(0, 'reschedule 30m operator on site'))).toEqual({
      kind: 'reschedule',
      delayMs: 1_800_000,
      reason: 'operator on site',
    });
    expect(decide(exited(21))).toMatchObject({ kind: 'reschedule', delayMs: 300_000 });
    expect(decide(exited(0, 'later'))).toMatchObject({ kind: 'hook-failed' });
    expect(decide(exited(2))).toMatchObject({ kind: 'hook-failed' });
  });
});

describe('before_download / before_apply answers', () => {
  it('exit 0 goes on whatever it prints, unless it asks to reschedule; exit 21 reschedules; others fail', () => {
    const prepare = (outcome: HookOutcome) => interpretPreparation('before_apply', outcome, OPTIONS);
    expect(prepare(exited(0, 'stopped 3 services'))).toEqual({ kind: 'continue' });
    expect(prepare(exited(0, 'reschedule 10m still recording'))).toEqual({
      kind: 'reschedule',
      delayMs: 600_000,
      reason: 'still recording',
    });
    expect(prepare(exited(21))).toEqual({
      kind: 'reschedule',
      delayMs: 300_000,
      reason: 'rescheduled by hooks.before_apply',
    });
    expect(prepare(exited(1, '', 'not enough space on /data'))).toEqual({
      kind: 'hook-failed',
      problem: 'hooks.before_apply exited with status 1: not enough space on /data',
    });
  });
});
