import { describe, expect, it } from 'vitest';
import { isJoinCrash, versionWarning } from './firmware-version.js';

describe('versionWarning', () => {
  it('accepts SemVer 2.0.0 versions, pre-release and build parts included', () => {
    for (const version of [
      '1.0.0',
      '0.0.1',
      '10.20.30',
      '1.0.0-rc.1',
      '1.0.0-alpha.beta+exp.sha.5114f85',
      undefined,
    ]) {
      expect(versionWarning(version), String(version)).toBeUndefined();
    }
  });

  it('names a version NervesHub cannot parse, why it matters and where to fix it', () => {
    for (const version of ['1.0', 'v1.0.0', '01.0.0', '1.0.0.0', '', '1.0.0-', '2024.01']) {
      expect(versionWarning(version), version).toMatch(/is not a SemVer 2\.0\.0 version/);
    }
    expect(versionWarning('1.0')).toBe(
      'nerves_fw_version "1.0" is not a SemVer 2.0.0 version (MAJOR.MINOR.PATCH, e.g. "1.4.0"): NervesHub crashes ' +
        'the join of such a device whenever a deployment group of its platform and architecture has a version ' +
        'condition; give the firmware a SemVer version (meta-version in its fwup.conf) or set nerves_fw_version in ' +
        '[metadata.values]',
    );
    expect(versionWarning(`1.${'x'.repeat(100)}`)).toContain(`"1.${'x'.repeat(58)}…"`);
  });
});

describe('isJoinCrash', () => {
  it("is true for NervesHub's `join crashed` reply only", () => {
    expect(isJoinCrash({ response: { reason: 'join crashed' } })).toBe(true);
    expect(isJoinCrash({ response: { error: 'could not connect' } })).toBe(false);
    expect(isJoinCrash(new Error('x'))).toBe(false);
    expect(isJoinCrash(undefined)).toBe(false);
  });
});
