import { describe, expect, it } from 'vitest';
import { parseUpdateOffer } from './offer.js';

const base = {
  update_available: true,
  firmware_url: 'https://fw.example/f.fw',
  firmware_meta: { uuid: 'u-1', version: '1.0.0' },
  size: 10,
  deployment_id: 3,
};

describe('parseUpdateOffer: checksum', () => {
  it('keeps a malformed checksum as sent, so the download refuses it instead of skipping the check', () => {
    const sha = 'A'.repeat(64);
    const checksumOf = (checksum: unknown) => {
      const parsed = parseUpdateOffer({ ...base, checksum });
      return parsed.ok ? parsed.offer.checksum : parsed.reason;
    };
    expect(checksumOf(sha)).toBe(sha);
    expect(checksumOf(sha.slice(1))).toBe(sha.slice(1));
    expect(checksumOf('')).toBe('');
    expect(checksumOf(12345)).toBe('12345');
    expect(checksumOf({ a: 1 })).toBe('{"a":1}');
    expect(checksumOf(null)).toBeUndefined();
    expect(checksumOf(undefined)).toBeUndefined();
  });
});

describe('parseUpdateOffer: size', () => {
  const sizeOf = (size: unknown) => {
    const parsed = parseUpdateOffer({ ...base, size });
    if (!parsed.ok) throw new Error(parsed.reason);
    return { size: parsed.offer.size, problem: parsed.offer.sizeProblem };
  };

  it('keeps a whole number of bytes', () => {
    expect(sizeOf(8_391_990)).toEqual({ size: 8_391_990, problem: undefined });
  });

  it('reads absent, null and 0 (an old delta) as unknown: the download is bounded by Content-Length or the free space', () => {
    for (const size of [undefined, null, 0])
      expect(sizeOf(size)).toEqual({ size: undefined, problem: undefined });
  });

  it('refuses anything else, naming the value', () => {
    const cases: Array<[unknown, string]> = [
      ['8391990', '"8391990"'],
      [-1, '-1'],
      [12.5, '12.5'],
      [2 ** 53, String(2 ** 53)],
      [true, 'true'],
      [{ bytes: 1 }, 'an object'],
    ];
    for (const [size, shown] of cases) {
      expect(sizeOf(size)).toEqual({
        size: undefined,
        problem: `invalid size: the update announced a size of ${shown}, not a whole number of bytes; NervesHub sends one, or none`,
      });
    }
  });
});
