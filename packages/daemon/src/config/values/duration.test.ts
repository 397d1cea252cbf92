import { describe, expect, it } from 'vitest';
import { formatDuration, parseDuration } from './duration.js';

describe('durations', () => {
  it('reads milliseconds and units, alone or combined', () => {
    expect(parseDuration('60000')).toBe(60_000);
    expect(parseDuration('500ms')).toBe(500);
    expect(parseDuration('90s')).toBe(90_000);
    expect(parseDuration('15m')).toBe(900_000);
    expect(parseDuration('2h')).toBe(7_200_000);
    expect(parseDuration('1h30m')).toBe(5_400_000);
    expect(parseDuration(' 1D ')).toBe(86_400_000);
    expect(parseDuration('0s')).toBe(0);
  });

  it('refuses anything else', () => {
    for (const text of ['', 'm', '15 m', '1.5h', '-5m', '15min', '1h-30m', 'abc', '9'.repeat(30)]) {
      expect(parseDuration(text), text).toBeUndefined();
    }
  });

  it('formats for people', () => {
    expect(formatDuration(250)).toBe('250 ms');
    expect(formatDuration(45_000)).toBe('45 s');
    expect(formatDuration(300_000)).toBe('5 min');
    expect(formatDuration(9_000_000)).toBe('2 h 30 min');
    expect(formatDuration(3 * 86_400_000 + 4 * 3_600_000)).toBe('3 d 4 h');
  });
});
