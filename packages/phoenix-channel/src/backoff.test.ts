import { describe, expect, it } from 'vitest';
import {
  backoffDelay,
  defaultReconnectAfterMs,
  defaultRejoinAfterMs,
  exponentialBackoff,
} from './backoff.js';

describe('backoffDelay', () => {
  it('doubles from 1 s and caps at 60 s without jitter', () => {
    const delays = [1, 2, 3, 4, 5, 6, 7, 8, 50].map((a) => backoffDelay(a, { random: () => 0 }));
    expect(delays).toEqual([1000, 2000, 4000, 8000, 16000, 32000, 60000, 60000, 60000]);
  });

  it('stretches each delay by up to 50 % with the `jitter` default', () => {
    expect(backoffDelay(1, { random: () => 0.5 })).toBe(1250);
    expect(backoffDelay(7, { random: () => 0.999999 })).toBe(Math.round(60000 * (1 + 0.5 * 0.999999)));
  });

  it('honors `initialMs`, `maxMs`, `factor` and `jitter`', () => {
    const options = { initialMs: 100, maxMs: 1000, factor: 3, jitter: 0, random: () => 0.9 };
    expect([1, 2, 3, 4].map((a) => backoffDelay(a, options))).toEqual([100, 300, 900, 1000]);
  });

  it('treats attempts below 1 and non-numbers as the first attempt', () => {
    expect(backoffDelay(0, { random: () => 0 })).toBe(1000);
    expect(backoffDelay(Number.NaN, { random: () => 0 })).toBe(1000);
  });

  it('stays finite for huge attempt numbers', () => {
    expect(backoffDelay(1e9, { random: () => 0 })).toBe(60000);
  });

  it('clamps a random source outside [0, 1)', () => {
    expect(backoffDelay(1, { random: () => 7 })).toBe(1500);
    expect(backoffDelay(1, { random: () => -1 })).toBe(1000);
  });
});

describe('exponentialBackoff', () => {
  it('returns a schedule function of the attempt', () => {
    const schedule = exponentialBackoff({ initialMs: 10, maxMs: 40, random: () => 0 });
    expect([1, 2, 3, 4].map(schedule)).toEqual([10, 20, 40, 40]);
  });

  it('rejects negative or non-finite options with `PHX_INVALID_ARGUMENT`', () => {
    expect(() => exponentialBackoff({ initialMs: -1 })).toThrow(
      expect.objectContaining({ code: 'PHX_INVALID_ARGUMENT' }),
    );
    expect(() => exponentialBackoff({ jitter: Number.POSITIVE_INFINITY })).toThrow(
      expect.objectContaining({ code: 'PHX_INVALID_ARGUMENT' }),
    );
  });
});

describe('defaults', () => {
  it('reconnects after 1–1.5 s first and never after more than 90 s', () => {
    for (let i = 0; i < 200; i++) {
      const first = defaultReconnectAfterMs(1);
      expect(first).toBeGreaterThanOrEqual(1000);
      expect(first).toBeLessThanOrEqual(1500);
      expect(defaultReconnectAfterMs(100)).toBeLessThanOrEqual(90000);
    }
  });

  it('rejoins after 5–7.5 s first', () => {
    for (let i = 0; i < 200; i++) {
      const first = defaultRejoinAfterMs(1);
      expect(first).toBeGreaterThanOrEqual(5000);
      expect(first).toBeLessThanOrEqual(7500);
    }
  });
});
