/**
 * Readers of keys whose values have a syntax of their own (public-key pins, durations, byte rates), each
 * reporting a problem that names the key, the value and what it expects.
 */
import { pinProblem } from '@nerves-hub-link/auth';
import { MIN_RATE_BYTES_PER_SECOND } from '@nerves-hub-link/firmware';
import { describeValue } from '@nerves-hub-link/message-text';
import type { TableReader } from './table-reader.js';
import { formatByteRate, parseByteRate } from './values/byte-rate.js';
import { formatDuration, parseDuration } from './values/duration.js';

/** An array of `sha256/…` public-key pins; undefined when absent or empty. */
export function pinList(reader: TableReader, key: string): string[] | undefined {
  const pins = reader.stringArray(key, 'an array of pins such as ["sha256/AbC…="]');
  if (!pins) return undefined;
  pins.forEach((pin, index) => {
    const problem = pinProblem(pin);
    if (problem) reader.problem(`${key}[${index}]`, `${problem}, got ${describeValue(pin)}`);
  });
  return pins.length > 0 ? pins : undefined;
}

/** A rate written with its unit ("2 MiB/s", "500 KB/s"). */
export function byteRate(reader: TableReader, key: string): number | undefined {
  const value = reader.raw(key);
  if (value === undefined) return undefined;
  const parsed =
    typeof value === 'string'
      ? parseByteRate(value)
      : { problem: 'expected a rate with its unit, such as "2 MiB/s" or "500 KB/s"' };
  if ('problem' in parsed) {
    reader.problem(key, `${parsed.problem}, got ${describeValue(value)}`);
    return undefined;
  }
  if (parsed.bytesPerSecond < MIN_RATE_BYTES_PER_SECOND) {
    reader.problem(
      key,
      `expected at least ${formatByteRate(MIN_RATE_BYTES_PER_SECOND)}, got ${describeValue(value)}`,
    );
    return undefined;
  }
  return parsed.bytesPerSecond;
}

/** A duration written as a string with a unit ("90s", "15m", "2h", "1h30m"). */
export function duration(
  reader: TableReader,
  key: string,
  fallback: number,
  range: { readonly min: number; readonly max: number },
): number {
  const value = reader.raw(key);
  if (value === undefined) return fallback;
  const ms = typeof value === 'string' && /[a-z]$/i.test(value.trim()) ? parseDuration(value) : undefined;
  if (ms === undefined || ms < range.min || ms > range.max) {
    reader.problem(
      key,
      `expected a duration such as "30s", "15m" or "1h30m" from ${formatDuration(range.min)} to ${formatDuration(range.max)}, got ${describeValue(value)}`,
    );
    return fallback;
  }
  return ms;
}
