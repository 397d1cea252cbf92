import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  buildNh1Salt,
  buildNh1Token,
  deriveNh1Key,
  encodeInteger,
  encodeNh1Payload,
  parseNh1Algorithm,
  signNh1Token,
} from './nh1-token.js';

interface Vector {
  name: string;
  inputs: { key: string; secret: string; identifier: string; signed_at: number; alg: string };
  outputs: {
    salt: string;
    derived_key_hex: string;
    payload_etf_hex: string;
    payload_b64url: string;
    signing_input: string;
    hmac_sha256_hex: string;
    token: string;
  };
}

const vectors: Vector[] = JSON.parse(
  readFileSync(new URL('../test/fixtures/shared-secret.json', import.meta.url), 'utf8'),
).vectors;

describe('NH1 recorded vectors', () => {
  it('has the five vectors', () => {
    expect(vectors).toHaveLength(5);
  });

  describe.each(vectors.map((vector) => [vector.name, vector] as const))('%s', (_name, vector) => {
    const { inputs, outputs } = vector;
    const algorithm = parseNh1Algorithm(inputs.alg);

    it('builds the salt byte for byte', () => {
      expect(buildNh1Salt(inputs.alg, inputs.key, String(inputs.signed_at))).toBe(outputs.salt);
    });

    it('derives the key', () => {
      expect(deriveNh1Key(inputs.secret, outputs.salt, algorithm).toString('hex')).toBe(
        outputs.derived_key_hex,
      );
    });

    it('encodes the Erlang term payload', () => {
      const payload = encodeNh1Payload(inputs.identifier, inputs.signed_at * 1000);
      expect(payload.toString('hex')).toBe(outputs.payload_etf_hex);
      expect(payload.toString('base64url')).toBe(outputs.payload_b64url);
    });

    it('builds the token from key and payload', () => {
      const token = buildNh1Token(
        Buffer.from(outputs.derived_key_hex, 'hex'),
        Buffer.from(outputs.payload_etf_hex, 'hex'),
      );
      expect(token).toBe(outputs.token);
      expect(token.startsWith(`${outputs.signing_input}.`)).toBe(true);
      expect(Buffer.from(token.split('.')[2]!, 'base64url').toString('hex')).toBe(outputs.hmac_sha256_hex);
    });

    it('signs the whole token', () => {
      expect(
        signNh1Token({
          key: inputs.key,
          secret: inputs.secret,
          identifier: inputs.identifier,
          signedAt: inputs.signed_at,
          alg: inputs.alg,
        }),
      ).toBe(outputs.token);
    });
  });
});

describe('parseNh1Algorithm', () => {
  it('reads digest, iterations and key length', () => {
    expect(parseNh1Algorithm('NH1-HMAC-sha256-1000-32')).toEqual({
      digest: 'sha256',
      iterations: 1000,
      keyLength: 32,
    });
    expect(parseNh1Algorithm('NH1-HMAC-SHA-10-16')).toEqual({
      digest: 'sha1',
      iterations: 10,
      keyLength: 16,
    });
  });

  it.each([
    'NH1-HMAC-md5-1000-32',
    'NH2-HMAC-sha256-1000-32',
    'NH1-HMAC-sha256-1000',
    'NH1-HMAC-sha256-x-32',
    'NH1-HMAC-sha256-1000-32-1',
    'NH1-HMAC-sha256-0-32',
  ])('rejects %s with `AUTH_INVALID_ARGUMENT`', (alg) => {
    expect(() => parseNh1Algorithm(alg)).toThrow(expect.objectContaining({ code: 'AUTH_INVALID_ARGUMENT' }));
  });
});

describe('encodeInteger', () => {
  it('uses the term_to_binary forms', () => {
    expect(encodeInteger(7).toString('hex')).toBe('6107');
    expect(encodeInteger(86_400).toString('hex')).toBe('6200015180');
    expect(encodeInteger(-1).toString('hex')).toBe('62ffffffff');
    expect(encodeInteger(2 ** 31).toString('hex')).toBe('6e040000000080');
    expect(encodeInteger(-(2 ** 31) - 1).toString('hex')).toBe('6e040101000080');
    expect(encodeInteger(1_700_000_000_000).toString('hex')).toBe('6e06000068e5cf8b01');
  });

  it('rejects unsafe integers', () => {
    expect(() => encodeInteger(0.5)).toThrow(expect.objectContaining({ code: 'AUTH_INVALID_ARGUMENT' }));
  });
});

describe('encodeNh1Payload', () => {
  it('encodes a UTF-8 identifier as a binary of its bytes', () => {
    const payload = encodeNh1Payload('ünit', 1_700_000_000_000);
    expect(payload.subarray(3, 8).toString('hex')).toBe('6d00000005');
    expect(payload.subarray(8, 13).toString('utf8')).toBe('ünit');
  });
});
