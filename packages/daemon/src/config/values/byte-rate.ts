/**
 * Transfer rates as operators write them in the config: a number, an optional space, a byte unit and `/s`:
 * `"2 MiB/s"`, `"500 KB/s"`, `"1.5MB/s"`. Decimal units (kB or KB, MB, GB) are powers of 1000, binary ones (KiB,
 * MiB, GiB) powers of 1024. Units are case-sensitive on purpose: `Mb/s` would be megabits.
 */

const UNIT_BYTES: Readonly<Record<string, number>> = {
  B: 1,
  kB: 1000,
  KB: 1000,
  MB: 1000 ** 2,
  GB: 1000 ** 3,
  KiB: 1024,
  MiB: 1024 ** 2,
  GiB: 1024 ** 3,
};

const RATE = /^(\d+(?:\.\d+)?) ?([A-Za-z]+)\/s$/;

/** Bytes per second (whole), or why `text` is not a rate. */
export function parseByteRate(text: string): { bytesPerSecond: number } | { problem: string } {
  const match = RATE.exec(text.trim());
  if (!match) return { problem: 'expected a rate such as "2 MiB/s" or "500 KB/s"' };
  const unit = UNIT_BYTES[match[2]!];
  if (unit === undefined) {
    const bits = /^[kKMG]?i?b$/.test(match[2]!) ? ' (a lower-case b means bits; write B for bytes)' : '';
    return {
      problem: `unknown unit "${match[2]}/s"${bits}; use B/s, KB/s, MB/s, GB/s, KiB/s, MiB/s or GiB/s`,
    };
  }
  const bytesPerSecond = Math.round(Number(match[1]) * unit);
  if (!Number.isSafeInteger(bytesPerSecond)) return { problem: 'the rate is too large' };
  return { bytesPerSecond };
}

/** A short rendering for logs: `2 MiB/s`, `500 KiB/s`, `800 B/s`. */
export function formatByteRate(bytesPerSecond: number): string {
  for (const [unit, size] of [
    ['GiB', 1024 ** 3],
    ['MiB', 1024 ** 2],
    ['KiB', 1024],
  ] as const) {
    if (bytesPerSecond >= size) {
      const value = bytesPerSecond / size;
      return `${Number.isInteger(value) ? value : value.toFixed(1)} ${unit}/s`;
    }
  }
  return `${Math.round(bytesPerSecond)} B/s`;
}
