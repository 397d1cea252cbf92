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
