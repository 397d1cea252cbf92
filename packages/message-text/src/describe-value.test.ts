import { describe, expect, it } from 'vitest';
import { describeValue } from './describe-value.js';

describe('describeValue', () => {
  it('echoes strings quoted, numbers, booleans, null and undefined as written', () => {
    expect(describeValue('TLSv1.4')).toBe('"TLSv1.4"');
    expect(describeValue('')).toBe('""');
    expect(describeValue(600_000)).toBe('600000');
    expect(describeValue(false)).toBe('false');
    expect(describeValue(null)).toBe('null');
    expect(describeValue(undefined)).toBe('undefined');
  });

  it('escapes control characters and bounds a long string, noting its length', () => {
    expect(describeValue('a\nb\x1b[2J')).toBe('"a\\nb\\x1b[2J"');
    const long = describeValue(`/etc/${'x'.repeat(500)}`);
    expect(long).toMatch(/^"\/etc\/x+… \(505 characters\)"$/);
    expect(long.length).toBeLessThanOrEqual(62);
  });

  it('lists a short array item by item and names the rest by kind', () => {
    expect(describeValue(['sh', 1, true])).toBe('an array ["sh", 1, true]');
    expect(describeValue([])).toBe('an array []');
    expect(describeValue(Array.from({ length: 11 }, () => 1))).toBe('an array of 11 items');
    expect(describeValue(['x'.repeat(40), 'y'.repeat(40)])).toBe('an array of 2 items');
    expect(describeValue({ a: 1 })).toBe('an object');
    expect(describeValue(new Date(Date.UTC(2024, 4, 1)))).toBe('a date (2024-05-01T00:00:00.000Z)');
    expect(describeValue(new Date(Number.NaN))).toBe('an invalid date');
    expect(describeValue(() => 1)).toBe('a function');
  });

  it('never echoes a value that may be a secret, only its kind', () => {
    expect(describeValue('hunter2', { secret: true })).toBe('a string');
    expect(describeValue('', { secret: true })).toBe('an empty string');
    expect(describeValue(1234, { secret: true })).toBe('a number');
    expect(describeValue(['1234'], { secret: true })).toBe('an array');
    expect(describeValue(undefined, { secret: true })).toBe('undefined');
  });
});
