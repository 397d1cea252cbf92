import { ManualClock } from '@nerves-hub-link/test-server/testing';
import { describe, expect, it, vi } from 'vitest';
import type { RebootPolicy } from '../config/sections/updates.js';
import type { RebootDecision } from '../hooks/hook-protocol.js';
import { RebootPlanner } from './reboot-planner.js';

function planner(policy: RebootPolicy, answers: RebootDecision[]) {
  const asked: string[] = [];
  const executed: string[] = [];
  const pending: Array<{ why: string; at?: number } | undefined> = [];
  const warnings: string[] = [];
  const clock = new ManualClock({ startAt: 1_000, frozen: true });
  const instance = new RebootPlanner({
    policy,
    ask: async (why) => {
      asked.push(why);
      return answers.shift() ?? { kind: 'reboot' };
    },
    execute: async (why) => {
      executed.push(why);
    },
    logger: { debug() {}, info() {}, warn: (message) => warnings.push(message), error() {} },
    onPending: (each) => pending.push(each),
    clock,
  });
  return { instance, asked, executed, pending, warnings, clock };
}

describe('RebootPlanner', () => {
  it('"immediate": asks (the hook is only told) and reboots once, whoever asks again', async () => {
    const t = planner('immediate', []);
    t.instance.request('the new firmware is written');
    t.instance.request('the server asked for a reboot');
    await vi.waitFor(() => expect(t.executed).toEqual(['the new firmware is written']));
    t.instance.request('the server asked for a reboot');
    expect(t.executed).toEqual(['the new firmware is written']);
    expect(t.instance.rebooting).toBe(true);
  });

  it('"hook": a postponed reboot is asked about again after the delay, and shows as pending', async () => {
    const t = planner('hook', [
      { kind: 'reschedule', delayMs: 30, reason: 'user logged in' },
      { kind: 'reboot' },
    ]);
    t.instance.request('the new firmware is written');
    await vi.waitFor(() => expect(t.pending).toEqual([{ why: 'the new firmware is written', at: 1_030 }]));
    expect(t.executed).toEqual([]);
    expect(t.clock.advance(29)).toBe(0);
    expect(t.clock.advance(1)).toBe(1);
    await vi.waitFor(() => expect(t.executed).toEqual(['the new firmware is written']));
    expect(t.asked).toEqual(['the new firmware is written', 'the new firmware is written']);
    expect(t.pending.at(-1)).toBeUndefined();
  });

  it('"never": logs that the device reboots into it by itself; nothing runs', async () => {
    const t = planner('never', []);
    t.instance.request('the new firmware is written');
    expect(t.asked).toEqual([]);
    expect(t.executed).toEqual([]);
    expect(t.pending).toEqual([{ why: 'the new firmware is written' }]);
    expect(t.warnings[0]).toMatch(/not rebooting \(updates\.reboot_policy = "never"\)/);
  });

  it('a stop cancels a postponed reboot', async () => {
    const t = planner('hook', [{ kind: 'reschedule', delayMs: 20, reason: 'later' }]);
    t.instance.request('the server asked for a reboot');
    await vi.waitFor(() => expect(t.clock.pending()).toHaveLength(1));
    t.instance.stop();
    t.clock.advance(50);
    expect(t.clock.pending()).toEqual([]);
    expect(t.asked).toHaveLength(1);
    expect(t.executed).toEqual([]);
  });
});
