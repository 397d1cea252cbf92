import { describe, expect, it } from 'vitest';
import { ManualClock } from '../src/testing/index.js';

describe('ManualClock', () => {
  it('runs with the system clock from `startAt`, and moves forward by each `advance`', () => {
    const clock = new ManualClock({ startAt: Date.UTC(2030, 0, 2, 1, 59, 50) });
    expect(Math.abs(clock.now() - Date.UTC(2030, 0, 2, 1, 59, 50))).toBeLessThan(1_000);
    const before = clock.now();
    clock.advance(10_000);
    expect(clock.now() - before).toBeGreaterThanOrEqual(10_000);
    expect(Math.abs(new ManualClock().now() - Date.now())).toBeLessThan(1_000);
    const frozen = new ManualClock({ startAt: 1_000, frozen: true });
    frozen.advance(30);
    expect(frozen.now()).toBe(1_030);
    expect(frozen.movedMs).toBe(30);
  });

  it('fires a timer only when the clock is moved past it, in due order, with the timers those set', () => {
    const clock = new ManualClock();
    const ran: string[] = [];
    clock.setTimeout(() => ran.push('b'), 2_000);
    clock.setTimeout(() => {
      ran.push('a');
      clock.setTimeout(() => ran.push('a+500'), 500);
    }, 1_000);
    const dropped = clock.setTimeout(() => ran.push('dropped'), 1_500);
    clock.clearTimeout(dropped);
    expect(clock.advance(999)).toBe(0);
    expect(ran).toEqual([]);
    expect(clock.advance(1_100)).toBe(3);
    expect(ran).toEqual(['a', 'a+500', 'b']);
    expect(clock.pending()).toEqual([]);
  });

  it('runNext moves to the earliest timer; whenPending waits for one to be set, and fails naming what it waited for', async () => {
    const clock = new ManualClock();
    const ran: number[] = [];
    const waiting = clock.whenPending('the retry', (timer) => timer.delayMs === 60_000);
    queueMicrotask(() => clock.setTimeout(() => ran.push(60_000), 60_000));
    expect((await waiting).delayMs).toBe(60_000);
    const moved = clock.runNext();
    expect(moved).toBeGreaterThan(59_000);
    expect(ran).toEqual([60_000]);
    expect(() => clock.runNext()).toThrow(/no timer is pending/);
    await expect(clock.whenPending('the reconnect', undefined, 20)).rejects.toThrow(
      'no timer for the reconnect within 20 ms (pending delays: [])',
    );
  });
});
