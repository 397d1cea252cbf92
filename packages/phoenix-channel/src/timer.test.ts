import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { Timer, type TimerHandle, type Timers } from './timer.js';

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

describe('Timer', () => {
  describe('#schedule', () => {
    it('runs the callback after the delay of the next attempt', () => {
      const callback = vi.fn();
      const delays: number[] = [];
      const timer = new Timer(callback, (attempt) => {
        delays.push(attempt);
        return attempt * 100;
      });
      expect(timer.schedule()).toBe(100);
      vi.advanceTimersByTime(99);
      expect(callback).not.toHaveBeenCalled();
      vi.advanceTimersByTime(1);
      expect(callback).toHaveBeenCalledTimes(1);
      expect(timer.schedule()).toBe(200);
      expect(timer.attempt).toBe(2);
      expect(delays).toEqual([1, 2]);
    });

    it('replaces a pending run instead of adding one', () => {
      const callback = vi.fn();
      const timer = new Timer(callback, () => 50);
      timer.schedule();
      timer.schedule();
      vi.advanceTimersByTime(1000);
      expect(callback).toHaveBeenCalledTimes(1);
    });

    it('treats negative, NaN and huge delays safely', () => {
      const callback = vi.fn();
      const values = [-5, Number.NaN, 1e12];
      const timer = new Timer(callback, () => values.shift() ?? 0);
      expect(timer.schedule()).toBe(0);
      expect(timer.schedule()).toBe(0);
      expect(timer.schedule()).toBe(2_147_483_647);
    });

    it('honors the `unref` option', () => {
      const ref = new Timer(
        () => {},
        () => 1000,
      );
      const unref = new Timer(
        () => {},
        () => 1000,
        { unref: true },
      );
      vi.useRealTimers();
      ref.schedule();
      unref.schedule();
      const before = process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
      ref.cancel();
      const afterRef = process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
      unref.cancel();
      const afterUnref = process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
      expect(before - afterRef).toBe(1);
      expect(afterRef - afterUnref).toBe(0);
    });
  });

  describe('`timers` option', () => {
    it('schedules and cancels on the timers it is given, never on the global ones', () => {
      const scheduled: Array<{ delayMs: number; run: () => void; cleared: boolean; unref: boolean }> = [];
      const timers: Timers = {
        setTimeout(callback, delayMs) {
          const entry = { delayMs, run: callback, cleared: false, unref: false };
          scheduled.push(entry);
          const handle: TimerHandle & { entry: typeof entry } = {
            entry,
            unref() {
              entry.unref = true;
            },
          };
          return handle;
        },
        clearTimeout(handle) {
          (handle as TimerHandle & { entry: { cleared: boolean } }).entry.cleared = true;
        },
      };
      const callback = vi.fn();
      const timer = new Timer(callback, (attempt) => attempt * 1_000, { timers, unref: true });
      timer.schedule();
      timer.schedule();
      vi.advanceTimersByTime(60_000);
      expect(callback).not.toHaveBeenCalled();
      expect(scheduled.map(({ delayMs, cleared, unref }) => ({ delayMs, cleared, unref }))).toEqual([
        { delayMs: 1_000, cleared: true, unref: true },
        { delayMs: 2_000, cleared: false, unref: true },
      ]);
      scheduled[1]!.run();
      expect(callback).toHaveBeenCalledTimes(1);
      expect(timer.isScheduled).toBe(false);
    });
  });

  describe('#reset', () => {
    it('cancels and counts attempts from zero again', () => {
      const callback = vi.fn();
      const timer = new Timer(callback, (attempt) => attempt * 10);
      timer.schedule();
      timer.schedule();
      timer.reset();
      expect(timer.isScheduled).toBe(false);
      vi.advanceTimersByTime(1000);
      expect(callback).not.toHaveBeenCalled();
      expect(timer.schedule()).toBe(10);
    });
  });

  describe('#cancel', () => {
    it('keeps the attempt count', () => {
      const timer = new Timer(
        () => {},
        (attempt) => attempt,
      );
      timer.schedule();
      timer.cancel();
      expect(timer.attempt).toBe(1);
      expect(timer.isScheduled).toBe(false);
    });
  });
});
