// Elixir's Version.parse and Version.match? (pre-releases allowed), which decide NervesHub's version conditions:
// the examples of Elixir's own documentation (lib/elixir/lib/version.ex) and the edges a device can hit.
import { describe, expect, it } from 'vitest';
import { parseRequirement, parseVersion } from '../src/hub/version.js';

function matches(version: string, requirement: string): boolean {
  const parsed = parseVersion(version);
  const required = parseRequirement(requirement);
  if (!parsed || !required) throw new Error(`cannot parse ${version} or ${requirement}`);
  return required.match(parsed);
}

describe('Version.parse', () => {
  it('takes MAJOR.MINOR.PATCH with optional pre-release and build parts', () => {
    expect(parseVersion('1.0.0')).toEqual({ major: 1, minor: 0, patch: 0, pre: [] });
    expect(parseVersion('2.0.1-alpha.3+20130417140000')).toEqual({
      major: 2,
      minor: 0,
      patch: 1,
      pre: ['alpha', 3],
    });
    expect(parseVersion('1.0.0-0')).toEqual({ major: 1, minor: 0, patch: 0, pre: [0] });
  });

  it('refuses what a device might report that is not SemVer', () => {
    for (const text of [
      '1.0',
      'v1.0.0',
      '1.0.0.1',
      '01.0.0',
      '1.00.0',
      '1.0.0-01',
      '1.0.0-',
      '1.0.0+',
      '1.0.0 ',
      '',
      'foo',
    ]) {
      expect(parseVersion(text), JSON.stringify(text)).toBeUndefined();
    }
  });
});

describe('Version.match?', () => {
  it('follows the documented examples', () => {
    expect(matches('2.0.0', '> 1.0.0')).toBe(true);
    expect(matches('2.0.0', '== 1.0.0')).toBe(false);
    expect(parseRequirement('== == 1.0.0')).toBeUndefined();
    expect(matches('2.1.0', '~> 2.0')).toBe(true);
    expect(matches('3.0.0', '~> 2.0')).toBe(false);
    expect(matches('2.0.1', '~> 2.0.0')).toBe(true);
    expect(matches('2.1.0', '~> 2.0.0')).toBe(false);
    expect(matches('2.1.3-dev', '~> 2.1.2')).toBe(true);
    expect(matches('2.2.0-dev', '~> 2.1-dev')).toBe(true);
    expect(matches('2.2.3-dev', '>= 2.1.0-dev')).toBe(true);
  });

  it('orders pre-releases as Version.compare does', () => {
    expect(matches('2.0.1-alpha1', '> 2.0.0')).toBe(true);
    expect(matches('1.0.0-beta', '< 1.0.0-rc1')).toBe(true);
    expect(matches('1.0.0-10', '> 1.0.0-2')).toBe(true);
    expect(matches('1.0.0-rc.1', '< 1.0.0')).toBe(true);
    expect(matches('2.0.1+build0', '== 2.0.1')).toBe(true);
  });

  it('joins conditions with and/or, left to right; a bare version means ==; ! means !=', () => {
    expect(matches('1.5.0', '>= 1.0.0 and < 2.0.0')).toBe(true);
    expect(matches('2.0.0', '>= 1.0.0 and < 2.0.0')).toBe(false);
    expect(matches('3.0.0', '1.0.0 or 3.0.0')).toBe(true);
    expect(matches('1.0.0', '1.0.0')).toBe(true);
    expect(matches('1.0.0', '!= 1.0.0')).toBe(false);
    expect(matches('1.0.1', '!1.0.0')).toBe(true);
  });

  it('refuses requirements Elixir cannot parse', () => {
    for (const text of ['', ' ', '>= 1.0', '~> 1', '>=', '1.0.0 and', 'and 1.0.0 1.0.0']) {
      expect(parseRequirement(text), JSON.stringify(text)).toBeUndefined();
    }
  });
});
