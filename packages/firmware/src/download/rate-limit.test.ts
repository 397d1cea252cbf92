import { describe, expect, it } from 'vitest';
import type { BodySink } from './http-get.js';
import { rateLimited, TokenBucket } from './rate-limit.js';

/** A clock the test moves by hand. */
function manualClock() {
  let now = 0;
  return { now: () => now, advance: (ms: number) => (now += ms) };
}

describe('TokenBucket', () => {
  it('starts empty at the first bytes, then asks to wait exactly for the debt', () => {
    const clock = manualClock();
    const bucket = new TokenBucket(1024 * 1024, clock.now);
    clock.advance(5_000); // a slow connection set-up earns nothing
    expect(bucket.take(16_384)).toBeCloseTo(15.625, 6);
    clock.advance(15.625);
    expect(bucket.take(0)).toBe(0);
    clock.advance(10);
    // 10 ms at 1 MiB/s: 10,485.76 bytes in the bucket; 16,384 more leaves 5,898.24 of debt.
    expect(bucket.take(16_384)).toBeCloseTo((5_898.24 * 1000) / 1_048_576, 6);
  });

  it('holds 50 ms at the cap, never more, however long it was idle', () => {
    const clock = manualClock();
    const bucket = new TokenBucket(10 * 1024 * 1024, clock.now);
    expect(bucket.burstBytes).toBe(524_288);
    bucket.take(0);
    clock.advance(60_000);
    expect(bucket.take(524_288)).toBe(0);
    expect(bucket.take(1)).toBeGreaterThan(0);
  });

  it('keeps the burst between 16 KiB and 2 MiB', () => {
    expect(new TokenBucket(1024).burstBytes).toBe(16 * 1024);
    expect(new TokenBucket(1024 * 1024 * 1024).burstBytes).toBe(2 * 1024 * 1024);
  });

  it('over a long run takes no more than the cap, the burst and one read allow, and no less than the cap', () => {
    const clock = manualClock();
    const rate = 2 * 1024 * 1024;
    const bucket = new TokenBucket(rate, clock.now);
    let taken = 0;
    // A reader that reads 64 KiB chunks as soon as it is allowed, woken 1 ms late each time.
    while (clock.now() < 10_000) {
      const wait = bucket.take(65_536);
      taken += 65_536;
      clock.advance(wait > 0 ? wait + 1 : 0);
      expect(taken).toBeLessThanOrEqual((rate * clock.now()) / 1000 + bucket.burstBytes + 65_536);
    }
    expect(Math.abs(taken / (clock.now() / 1000) / rate - 1)).toBeLessThan(0.01);
  });

  it('refuses a rate below 1 KiB/s or not a number', () => {
    expect(() => new TokenBucket(100)).toThrow(/at least 1024/);
    expect(() => new TokenBucket(Number.NaN)).toThrow(/at least 1024/);
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

  it('passes chunks through while the bucket has tokens', async () => {
    const { sink } = recordingSink(() => true);
    const limited = rateLimited(sink, new TokenBucket(1024 * 1024));
    expect(limited.push(Buffer.alloc(0))).toBe(true);
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(limited.push(Buffer.alloc(1000))).toBe(true);
  });

  it('pauses on debt and resumes after the wait', async () => {
    const { sink } = recordingSink(() => true);
    const limited = rateLimited(sink, new TokenBucket(1024 * 1024));
    expect(limited.push(Buffer.alloc(60_000))).toBe(false);
    const started = performance.now();
    await new Promise<void>((resolve) => limited.onDrain(resolve));
    // 60,000 bytes at 1 MiB/s from an empty bucket: 57 ms.
    expect(performance.now() - started).toBeGreaterThanOrEqual(56);
  });

  it('after the wait, still waits for the sink it wraps to drain', async () => {
    const { sink, drains } = recordingSink(() => false);
    // A clock that stands still: the debt is still owed when onDrain asks, however slow the machine is.
    const clock = manualClock();
    const limited = rateLimited(sink, new TokenBucket(1024 * 1024, clock.now));
    expect(limited.push(Buffer.alloc(100))).toBe(false);
    let resumed = false;
    limited.onDrain(() => {
      resumed = true;
    });
    // First the bucket's debt (100 bytes: under 1 ms), then the sink's drain.
    expect(drains).toHaveLength(0);
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect(drains).toHaveLength(1);
    expect(resumed).toBe(false);
    drains[0]!();
    expect(resumed).toBe(true);
  });
});
