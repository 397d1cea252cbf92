import { describe, expect, it } from 'vitest';
import type { BodySink } from './http-get.js';
import { rateLimited, TokenBucket } from './rate-limit.js';

/** A clock the test moves by hand. */
function manualClock() {
  let now = 0;
  return { now: () => now, advance: (ms: number) => (now += ms) };
}

describe('TokenBucket', () => {
  it('lets a burst of 20 ms at the cap through, then asks to wait exactly for the debt', () => {
    const clock = manualClock();
    const bucket = new TokenBucket(1024 * 1024, clock.now);
    expect(bucket.burstBytes).toBe(20_972);
    expect(bucket.take(20_000)).toBe(0);
    // 972 left; 65,536 more leaves 64,564 of debt: 61.57 ms at 1 MiB/s.
    expect(bucket.take(65_536)).toBeCloseTo((64_564 * 1000) / 1_048_576, 6);
    clock.advance(61.58);
    expect(bucket.take(0)).toBe(0);
  });

  it('never holds more than the burst, however long it was idle', () => {
    const clock = manualClock();
    const bucket = new TokenBucket(10 * 1024 * 1024, clock.now);
    expect(bucket.burstBytes).toBe(209_715);
    clock.advance(60_000);
    expect(bucket.take(209_715)).toBe(0);
    expect(bucket.take(1)).toBeGreaterThan(0);
  });

  it('keeps the burst between 16 KiB and 256 KiB', () => {
    expect(new TokenBucket(1024).burstBytes).toBe(16 * 1024);
    expect(new TokenBucket(1024 * 1024 * 1024).burstBytes).toBe(256 * 1024);
  });

  it('over a long run takes no more than the cap, the burst and one read allow', () => {
    const clock = manualClock();
    const rate = 2 * 1024 * 1024;
    const bucket = new TokenBucket(rate, clock.now);
    let taken = 0;
    // A reader that reads 64 KiB chunks as soon as it is allowed.
    while (clock.now() < 10_000) {
      const wait = bucket.take(65_536);
      taken += 65_536;
      clock.advance(wait);
      expect(taken).toBeLessThanOrEqual((rate * clock.now()) / 1000 + bucket.burstBytes + 65_536);
    }
    expect(taken / (clock.now() / 1000)).toBeCloseTo(rate, -4);
  });

  it('refuses a rate below 1 KiB/s or not a number', () => {
    expect(() => new TokenBucket(100)).toThrow(/at least 1024/);
    expect(() => new TokenBucket(Number.NaN)).toThrow(/FW_RATE_INVALID|at least/);
  });
});

describe('rateLimited', () => {
  function recordingSink(ready: () => boolean) {
    const drains: (() => void)[] = [];
    const sink: BodySink = {
      push: () => ready(),
      onDrain: (resume) => drains.push(resume),
    };
    return { sink, drains };
  }

  it('passes chunks through while the bucket has tokens', () => {
    const { sink } = recordingSink(() => true);
    const limited = rateLimited(sink, new TokenBucket(1024 * 1024));
    expect(limited.push(Buffer.alloc(1000))).toBe(true);
  });

  it('pauses on debt and resumes after the wait', async () => {
    const { sink } = recordingSink(() => true);
    const limited = rateLimited(sink, new TokenBucket(1024 * 1024));
    expect(limited.push(Buffer.alloc(60_000))).toBe(false);
    const started = performance.now();
    await new Promise<void>((resolve) => limited.onDrain(resolve));
    // (60,000 - 20,972) bytes at 1 MiB/s: 37 ms.
    expect(performance.now() - started).toBeGreaterThanOrEqual(36);
  });

  it('after the wait, still waits for the sink it wraps to drain', async () => {
    const { sink, drains } = recordingSink(() => false);
    const limited = rateLimited(sink, new TokenBucket(1024 * 1024));
    expect(limited.push(Buffer.alloc(100))).toBe(false);
    let resumed = false;
    limited.onDrain(() => {
      resumed = true;
    });
    expect(drains).toHaveLength(1);
    expect(resumed).toBe(false);
    drains[0]!();
    expect(resumed).toBe(true);
  });
});
