import { afterEach, describe, expect, it, vi } from 'vitest';
import { MAX_TIMER_MS, systemClock } from './clock.js';
import { ManualClock } from './manual-clock.js';

const DAY = 86_400_000;

describe('systemClock.schedule', () => {
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
      systemClock.schedule(25 * DAY, () => fired.push(Date.now() - start));
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

  it('cancels, also between steps; a negative delay is no delay; a non-finite one is a programming error', () => {
    vi.useFakeTimers();
    const fired: string[] = [];
    const cancelLong = systemClock.schedule(30 * DAY, () => fired.push('long'));
    vi.advanceTimersByTime(MAX_TIMER_MS + 10);
    cancelLong();
    systemClock.schedule(-5, () => fired.push('now'));
    vi.advanceTimersByTime(30 * DAY);
    expect(fired).toEqual(['now']);
    expect(() => systemClock.schedule(Number.POSITIVE_INFINITY, () => {})).toThrow(RangeError);
  });
});

describe('ManualClock', () => {
  it('calls what falls due in time order, each at its own time', () => {
    const clock = new ManualClock(1_000);
    const seen: Array<[string, number]> = [];
    clock.schedule(300, () => seen.push(['b', clock.now()]));
    clock.schedule(100, () => {
      seen.push(['a', clock.now()]);
      clock.schedule(100, () => seen.push(['a again', clock.now()]));
    });
    const cancel = clock.schedule(200, () => seen.push(['cancelled', clock.now()]));
    cancel();
    clock.advance(250);
    expect(seen).toEqual([
      ['a', 1_100],
      ['a again', 1_200],
    ]);
    expect(clock.now()).toBe(1_250);
    clock.advance(50);
    expect(seen.at(-1)).toEqual(['b', 1_300]);
    expect(clock.pending).toBe(0);
  });
});
