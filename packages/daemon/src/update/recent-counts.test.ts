import { describe, expect, it } from 'vitest';
import { RecentCounts } from './recent-counts.js';

describe('RecentCounts', () => {
  it('counts within the sliding window, up to the limit', () => {
    let now = 0;
    const counts = new RecentCounts({ windowMs: 60_000, maxKeys: 10, now: () => now });
    expect(counts.take('a', 2)).toBe(true);
    now = 30_000;
    expect(counts.take('a', 2)).toBe(true);
    expect(counts.take('a', 2)).toBe(false);
    expect(counts.take('b', 2)).toBe(true);
    now = 60_000;
    expect(counts.count('a')).toBe(1);
    expect(counts.take('a', 2)).toBe(true);
  });

  it('forgets counts from the future: a clock set back an hour does not hold the key for an hour', () => {
    let now = 10 * 3_600_000;
    const counts = new RecentCounts({ windowMs: 60_000, maxKeys: 10, now: () => now });
    counts.take('a', 2);
    counts.take('a', 2);
    now -= 3_600_000;
    expect(counts.take('a', 2)).toBe(true);
  });

  it('keeps a key of any length by its digest: 600 KB uuids cost no more memory than short ones', () => {
    const counts = new RecentCounts({ windowMs: 60_000, maxKeys: 3, now: () => 1 });
    const huge = 'u'.repeat(600_000);
    expect(counts.take(huge, 1)).toBe(true);
    expect(counts.take(huge, 1)).toBe(false);
    expect(counts.take(`${huge}x`, 1)).toBe(true);
  });

  it('keeps at most maxKeys keys, the oldest going first', () => {
    const counts = new RecentCounts({ windowMs: 60_000, maxKeys: 3, now: () => 1 });
    for (const key of ['a', 'b', 'c', 'd']) counts.take(key, 1);
    expect(counts.count('a')).toBe(0);
    expect(['b', 'c', 'd'].map((key) => counts.count(key))).toEqual([1, 1, 1]);
  });
});
