import { describe, expect, it } from 'vitest';
import { RATE_FLOOR_DEFAULTS, RateFloor, type RateShortfall } from './rate-floor.js';

/** Feeds `bytes` every `everyMs` for `forMs` of injected time; the first shortfall, and when it came. */
function feed(floor: RateFloor, clock: { now: number }, bytes: number, everyMs: number, forMs: number) {
  for (let at = everyMs; at <= forMs; at += everyMs) {
    clock.now = at;
    const shortfall: RateShortfall | undefined = floor.add(bytes);
    if (shortfall) return { at, shortfall };
  }
  return undefined;
}

const withDefaults = (clock: { now: number }) =>
  new RateFloor(RATE_FLOOR_DEFAULTS.bytesPerSecond, RATE_FLOOR_DEFAULTS.windowMs, () => clock.now);

describe('RateFloor with its defaults', () => {
  it('lets a 2 KiB/s link go on for an hour, in reads of any size', () => {
    for (const [bytes, everyMs] of [
      [2048, 1000],
      [16 * 1024, 8000],
      [64 * 1024, 30_000],
    ] as const) {
      const clock = { now: 0 };
      expect(feed(withDefaults(clock), clock, bytes, everyMs, 3_600_000)).toBeUndefined();
    }
  });

  it('lets the lowest bandwidth cap, 1 KiB/s, go on', () => {
    const clock = { now: 0 };
    expect(feed(withDefaults(clock), clock, 1024, 1000, 3_600_000)).toBeUndefined();
  });

  it('ends a 200 B/s drip at the first read after its first minute, saying the rate', () => {
    const clock = { now: 0 };
    expect(feed(withDefaults(clock), clock, 20, 100, 3_600_000)).toEqual({
      at: 60_000,
      shortfall: { bytes: 12_000, ms: 60_000, bytesPerSecond: 200 },
    });
  });

  it('averages over each window on its own: a fast start does not pay for a drip later', () => {
    const clock = { now: 0 };
    const floor = withDefaults(clock);
    expect(feed(floor, clock, 1024 * 1024, 1000, 59_000)).toBeUndefined();
    clock.now = 60_000;
    expect(floor.add(1024)).toBeUndefined();
    clock.now = 130_000;
    expect(floor.add(100)).toEqual({ bytes: 100, ms: 70_000, bytesPerSecond: 100 / 70 });
  });

  it('never fails with a floor of 0', () => {
    const clock = { now: 0 };
    const floor = new RateFloor(0, 1000, () => clock.now);
    clock.now = 10_000_000;
    expect(floor.add(1)).toBeUndefined();
  });
});
