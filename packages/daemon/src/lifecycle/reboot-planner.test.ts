import { describe, expect, it } from 'vitest';
import type { RebootPolicy } from '../config/sections/updates.js';
import type { RebootDecision } from '../hooks/hook-protocol.js';
import { RebootPlanner } from './reboot-planner.js';

function planner(policy: RebootPolicy, answers: RebootDecision[]) {
  const asked: string[] = [];
  const executed: string[] = [];
  const pending: Array<{ why: string; at?: number } | undefined> = [];
  const warnings: string[] = [];
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
    now: () => 1_000,
  });
  return { instance, asked, executed, pending, warnings };
}

const tick = (ms = 5) => new Promise((resolve) => setTimeout(resolve, ms));

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
      { kind: 'reschedule', delayMs: 30, reason: 'user logged in' },
      { kind: 'reboot' },
    ]);
    t.instance.request('the new firmware is written');
    await tick();
    expect(t.executed).toEqual([]);
    expect(t.pending).toEqual([{ why: 'the new firmware is written', at: 1_030 }]);
    await tick(60);
    expect(t.asked).toEqual(['the new firmware is written', 'the new firmware is written']);
    expect(t.executed).toEqual(['the new firmware is written']);
    expect(t.pending.at(-1)).toBeUndefined();
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

  it('a stop cancels a postponed reboot', async () => {
    const t = planner('hook', [{ kind: 'reschedule', delayMs: 20, reason: 'later' }]);
    t.instance.request('the server asked for a reboot');
    await tick();
    t.instance.stop();
    await tick(50);
    expect(t.asked).toHaveLength(1);
    expect(t.executed).toEqual([]);
  });
});
