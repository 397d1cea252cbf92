import { ManualClock } from '@nerves-hub-link/test-server/testing';
import { describe, expect, it } from 'vitest';
import type { RebootPolicy } from '../config/sections/updates.js';
import type { RebootDecision } from '../hooks/hook-protocol.js';
import { RebootPlanner } from './reboot-planner.js';

const MINUTE = 60_000;
const DAY = 86_400_000;

function planner(policy: RebootPolicy, answers: RebootDecision[], always?: RebootDecision) {
  const asked: string[] = [];
  const signals: AbortSignal[] = [];
  const executed: string[] = [];
  const pending: Array<{ why: string; at?: number } | undefined> = [];
  const warnings: string[] = [];
  const clock = new ManualClock({ startAt: 1_000, frozen: true });
  const instance = new RebootPlanner({
    policy,
    ask: async (why, signal) => {
      asked.push(why);
      signals.push(signal);
      return answers.shift() ?? always ?? { kind: 'reboot' };
    },
    execute: async (why) => {
      executed.push(why);
    },
    logger: { debug() {}, info() {}, warn: (message) => warnings.push(message), error() {} },
    onPending: (each) => pending.push(each),
    clock,
  });
  return { instance, asked, signals, executed, pending, warnings, clock };
}

const tick = () => new Promise((resolve) => setImmediate(resolve));

describe('RebootPlanner', () => {
  it('"immediate": asks (the hook is only told) and reboots once, whoever asks again', async () => {
    const t = planner('immediate', []);
    t.instance.request('the new firmware is written');
    t.instance.request('the server asked for a reboot');
    await tick();
    t.instance.request('the server asked for a reboot');
    expect(t.executed).toEqual(['the new firmware is written']);
    expect(t.instance.rebooting).toBe(true);
  });

  it('"hook": a postponed reboot is asked about again after the delay, and shows as pending', async () => {
    const t = planner('hook', [
      { kind: 'reschedule', delayMs: 30 * MINUTE, reason: 'user logged in' },
      { kind: 'reboot' },
    ]);
    t.instance.request('the new firmware is written');
    await tick();
    expect(t.executed).toEqual([]);
    expect(t.pending).toEqual([{ why: 'the new firmware is written', at: 1_000 + 30 * MINUTE }]);
    t.clock.advance(30 * MINUTE - 1);
    await tick();
    expect(t.asked).toHaveLength(1);
    t.clock.advance(1);
    await tick();
    expect(t.asked).toEqual(['the new firmware is written', 'the new firmware is written']);
    expect(t.executed).toEqual(['the new firmware is written']);
    expect(t.pending.at(-1)).toBeUndefined();
    expect(t.warnings).toEqual([]);
  });

  it('"hook": a hook that keeps answering "reschedule 1" is asked at most once a minute, and the raise is logged', async () => {
    const t = planner('hook', [], { kind: 'reschedule', delayMs: 1, reason: 'not now' });
    t.instance.request('the new firmware is written');
    for (let ms = 0; ms < 10 * MINUTE; ms += 100) {
      await tick();
      t.clock.advance(100);
    }
    await tick();
    // At 0, 1, 2, … 10 minutes.
    expect(t.asked).toHaveLength(11);
    expect(t.warnings[0]).toBe(
      'the new firmware is written: the delay of a postponed reboot, 1 ms, was raised to 60 s (hooks.before_reboot is asked at most once a minute)',
    );
  });

  it('"hook": a postponement past what a timer holds (25 days) waits 25 days, not a moment', async () => {
    const t = planner('hook', [{ kind: 'reschedule', delayMs: 25 * DAY, reason: 'after the season' }]);
    t.instance.request('the new firmware is written');
    await tick();
    t.clock.advance(25 * DAY - 1);
    await tick();
    expect(t.asked).toHaveLength(1);
    t.clock.advance(1);
    await tick();
    expect(t.asked).toHaveLength(2);
    expect(t.executed).toHaveLength(1);
  });

  it('"hook": a server that pushes reboot every second asks before_reboot at most once a minute', async () => {
    const t = planner('hook', [], { kind: 'reschedule', delayMs: 30 * MINUTE, reason: 'operator on site' });
    for (let second = 0; second < 3 * 60; second++) {
      t.instance.request('the server asked for a reboot');
      await tick();
      t.clock.advance(1_000);
    }
    await tick();
    // At 0, 1, 2 and 3 minutes (the last fold falls due as the loop ends), instead of 180 times.
    expect(t.asked).toHaveLength(4);
    expect(t.executed).toEqual([]);
  });

  it('"never": logs that the device reboots into it by itself; nothing runs', async () => {
    const t = planner('never', []);
    t.instance.request('the new firmware is written');
    await tick();
    expect(t.asked).toEqual([]);
    expect(t.executed).toEqual([]);
    expect(t.pending).toEqual([{ why: 'the new firmware is written' }]);
    expect(t.warnings[0]).toMatch(/not rebooting \(updates\.reboot_policy = "never"\)/);
  });

  it('a stop cancels a postponed reboot and stops a question being asked', async () => {
    const t = planner('hook', [{ kind: 'reschedule', delayMs: 5 * MINUTE, reason: 'later' }]);
    t.instance.request('the server asked for a reboot');
    await tick();
    expect(t.signals[0]?.aborted).toBe(false);
    t.instance.stop();
    expect(t.signals[0]?.aborted).toBe(true);
    t.clock.advance(60 * MINUTE);
    await tick();
    expect(t.asked).toHaveLength(1);
    expect(t.executed).toEqual([]);
    expect(t.clock.pending().length).toBe(0);
  });
});
