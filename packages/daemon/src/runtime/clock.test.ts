import { afterEach, describe, expect, it, vi } from 'vitest';
import { MAX_TIMER_MS, SYSTEM_CLOCK } from './clock.js';

const DAY = 86_400_000;

describe('SYSTEM_CLOCK.setTimeout', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('waits a delay longer than a timer holds in steps: 25 days is 25 days, with no TimeoutOverflowWarning', () => {
    vi.useFakeTimers();
    const warnings: string[] = [];
    const onWarning = (warning: Error) => warnings.push(warning.name);
    process.on('warning', onWarning);
    try {
      const fired: number[] = [];
      const start = Date.now();
      SYSTEM_CLOCK.setTimeout(() => fired.push(Date.now() - start), 25 * DAY);
      vi.advanceTimersByTime(MAX_TIMER_MS + 1);
      expect(fired).toEqual([]);
      vi.advanceTimersByTime(25 * DAY - MAX_TIMER_MS - 2);
      expect(fired).toEqual([]);
      vi.advanceTimersByTime(1);
      expect(fired).toEqual([25 * DAY]);
    } finally {
      process.off('warning', onWarning);
    }
    expect(warnings).toEqual([]);
  });

  it('clears, also between steps; a negative delay is no delay; a non-finite one is a programming error', () => {
    vi.useFakeTimers();
    const fired: string[] = [];
    const long = SYSTEM_CLOCK.setTimeout(() => fired.push('long'), 30 * DAY);
    vi.advanceTimersByTime(MAX_TIMER_MS + 10);
    SYSTEM_CLOCK.clearTimeout(long);
    SYSTEM_CLOCK.setTimeout(() => fired.push('now'), -5);
    vi.advanceTimersByTime(30 * DAY);
    expect(fired).toEqual(['now']);
    expect(() => SYSTEM_CLOCK.setTimeout(() => {}, Number.POSITIVE_INFINITY)).toThrow(RangeError);
  });

  it('an unref-ed timer stays unref-ed in its later steps', () => {
    vi.useFakeTimers();
    const timer = SYSTEM_CLOCK.setTimeout(() => {}, 26 * DAY);
    timer.unref();
    vi.advanceTimersByTime(MAX_TIMER_MS + 1);
    // The second step is the only timer pending, and it does not hold the process.
    expect(vi.getTimerCount()).toBe(1);
    SYSTEM_CLOCK.clearTimeout(timer);
    expect(vi.getTimerCount()).toBe(0);
  });
});
