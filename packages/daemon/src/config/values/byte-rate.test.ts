import { describe, expect, it } from 'vitest';
import { formatByteRate, parseByteRate } from './byte-rate.js';

describe('byte rates', () => {
  it('reads decimal and binary units, with or without a space', () => {
    expect(parseByteRate('2 MiB/s')).toEqual({ bytesPerSecond: 2 * 1024 * 1024 });
    expect(parseByteRate('500 KB/s')).toEqual({ bytesPerSecond: 500_000 });
    expect(parseByteRate('500kB/s')).toEqual({ bytesPerSecond: 500_000 });
    expect(parseByteRate('1.5MB/s')).toEqual({ bytesPerSecond: 1_500_000 });
    expect(parseByteRate(' 1 GiB/s ')).toEqual({ bytesPerSecond: 1024 ** 3 });
    expect(parseByteRate('4096 B/s')).toEqual({ bytesPerSecond: 4096 });
  });

  it('refuses bits, unknown units and anything without /s', () => {
    expect(parseByteRate('2 Mb/s')).toEqual({
      problem:
        'unknown unit "Mb/s" (a lower-case b means bits; write B for bytes); use B/s, KB/s, MB/s, GB/s, KiB/s, MiB/s or GiB/s',
    });
    for (const text of [
      '2 mib/s',
      '2 MiB',
      '2MiBps',
      '-1 MB/s',
      '2  MiB/s',
      'fast',
      '',
      '1e3 B/s',
      '.5 MB/s',
    ]) {
      expect('problem' in parseByteRate(text), text).toBe(true);
    }
    expect(parseByteRate(`${'9'.repeat(30)} GiB/s`)).toEqual({ problem: 'the rate is too large' });
  });

  it('formats for people', () => {
    expect(formatByteRate(2 * 1024 * 1024)).toBe('2 MiB/s');
    expect(formatByteRate(500_000)).toBe('488.3 KiB/s');
    expect(formatByteRate(800)).toBe('800 B/s');
  });
});
