import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { signingTime, signSharedSecretHeaders } from './shared-secret.js';

const vectors: {
  name: string;
  inputs: { key: string; secret: string; identifier: string; signed_at: number };
  outputs: { headers: Record<string, string> };
}[] = JSON.parse(
  readFileSync(new URL('../test/fixtures/shared-secret.json', import.meta.url), 'utf8'),
).vectors;

describe('signSharedSecretHeaders', () => {
  it.each(vectors.map((vector) => [vector.name, vector] as const))(
    'reproduces the headers of vector %s from `nowMs`',
    (_name, { inputs, outputs }) => {
      // One second of margin: a clock reading of signed_at + 1.5 s signs for signed_at.
      const headers = signSharedSecretHeaders({
        key: inputs.key,
        secret: inputs.secret,
        identifier: inputs.identifier,
        nowMs: (inputs.signed_at + 1) * 1000 + 500,
      });
      expect(headers).toEqual(outputs.headers);
    },
  );

  it('honors the `signedAt` option', () => {
    const [vector] = vectors;
    const headers = signSharedSecretHeaders({
      key: vector!.inputs.key,
      secret: vector!.inputs.secret,
      identifier: vector!.inputs.identifier,
      signedAt: vector!.inputs.signed_at,
      nowMs: 0,
    });
    expect(headers).toEqual(vector!.outputs.headers);
  });

  it('returns exactly the four lowercase x-nh headers', () => {
    const headers = signSharedSecretHeaders({ key: 'nhp_k', secret: 's', identifier: 'd', nowMs: 1e12 });
    expect(Object.keys(headers).sort()).toEqual(['x-nh-alg', 'x-nh-key', 'x-nh-signature', 'x-nh-time']);
    expect(headers['x-nh-alg']).toBe('NH1-HMAC-sha256-1000-32');
  });

  it('dates the token one second before `nowMs`, in whole seconds', () => {
    const headers = signSharedSecretHeaders({
      key: 'nhp_k',
      secret: 's',
      identifier: 'd',
      nowMs: 1_700_000_000_999,
    });
    expect(headers['x-nh-time']).toBe('1699999999');
  });

  it('uses the current time by default', () => {
    const before = Math.floor(Date.now() / 1000) - 1;
    const time = Number(signSharedSecretHeaders({ key: 'nhp_k', secret: 's', identifier: 'd' })['x-nh-time']);
    expect(time).toBeGreaterThanOrEqual(before);
    expect(time).toBeLessThanOrEqual(Math.floor(Date.now() / 1000) - 1);
  });

  it('signs differently for each second', () => {
    const a = signSharedSecretHeaders({ key: 'nhp_k', secret: 's', identifier: 'd', nowMs: 1e12 });
    const b = signSharedSecretHeaders({ key: 'nhp_k', secret: 's', identifier: 'd', nowMs: 1e12 + 1000 });
    expect(a['x-nh-signature']).not.toBe(b['x-nh-signature']);
  });

  it.each([
    ['key', { key: '' }],
    ['key', { key: 'nhp_a b' }],
    ['key', { key: 'nhp_\n' }],
    ['secret', { secret: '' }],
    ['identifier', { identifier: '' }],
    ['nowMs', { nowMs: Number.NaN }],
  ])(
    'rejects a bad `%s` with `AUTH_INVALID_ARGUMENT`, naming it, and never echoes the secret',
    (name, override) => {
      const call = () =>
        signSharedSecretHeaders({ key: 'nhp_k', secret: 'top-secret', identifier: 'd', ...override });
      expect(call).toThrow(expect.objectContaining({ code: 'AUTH_INVALID_ARGUMENT', option: name }));
      try {
        call();
      } catch (error) {
        expect((error as Error).message).not.toContain('top-secret');
      }
    },
  );

  it('echoes a bad key id, escaped, but only the kind of a bad secret', () => {
    expect(() => signSharedSecretHeaders({ key: 'nhp_\n', secret: 's', identifier: 'd' })).toThrow(
      'key: expected a non-empty key id of printable ASCII ("nhp_…" or "nhd_…"), got "nhp_\\n"',
    );
    const secret = 123456 as unknown as string;
    expect(() => signSharedSecretHeaders({ key: 'nhp_k', secret, identifier: 'd' })).toThrow(
      'secret: expected a non-empty string, got a number',
    );
  });
});

describe('signingTime', () => {
  it('floors to seconds and subtracts the margin', () => {
    expect(signingTime(1_000_000)).toBe(999);
    expect(signingTime(1_000_999)).toBe(999);
    expect(signingTime(500)).toBe(0);
  });
});
