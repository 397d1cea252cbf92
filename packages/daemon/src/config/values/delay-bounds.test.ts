import { describe, expect, it } from 'vitest';
import { boundDelay, DELAY_USES, describeBound } from './delay-bounds.js';

const MINUTE = 60_000;
const DAY = 86_400_000;

describe('boundDelay', () => {
  it('keeps a delay within the floor and the ceiling of its use', () => {
    expect(boundDelay(10 * MINUTE, DELAY_USES.offer)).toEqual({ ms: 10 * MINUTE, requestedMs: 10 * MINUTE });
    expect(describeBound(boundDelay(10 * MINUTE, DELAY_USES.offer), DELAY_USES.offer)).toBeUndefined();
  });

  it('raises a short one, or one that is no delay at all, to the floor', () => {
    for (const asked of [1, 0, -5, Number.NaN, 299_999]) {
      expect(boundDelay(asked, DELAY_USES.offer)).toEqual({
        ms: 5 * MINUTE,
        requestedMs: asked,
        limit: 'floor',
      });
    }
    expect(boundDelay(1, DELAY_USES.reboot)).toMatchObject({ ms: MINUTE, limit: 'floor' });
    expect(describeBound(boundDelay(1, DELAY_USES.offer), DELAY_USES.offer)).toBe(
      'the delay of a rescheduled offer, 1 ms, was raised to 5 min (the shortest reschedule the device sends NervesHub and asks again after)',
    );
    expect(describeBound(boundDelay(Number.NaN, DELAY_USES.offer), DELAY_USES.offer)).toMatch(
      /, NaN, was raised/,
    );
  });

  it('cuts a long one, or an endless one, to the ceiling', () => {
    for (const asked of [30 * DAY + 1, 10 ** 15, Number.POSITIVE_INFINITY]) {
      expect(boundDelay(asked, DELAY_USES.offer)).toEqual({
        ms: 30 * DAY,
        requestedMs: asked,
        limit: 'ceiling',
      });
    }
    expect(describeBound(boundDelay(40 * DAY, DELAY_USES.reboot), DELAY_USES.reboot)).toBe(
      'the delay of a postponed reboot, 40 d, was cut to 30 d (the longest the device waits)',
    );
  });

  it('gives whole milliseconds, as delay_for must be an integer', () => {
    expect(boundDelay(300_000.4, DELAY_USES.offer).ms).toBe(300_001);
  });
});
