/**
 * NH1 shared-secret token, byte-compatible with `Plug.Crypto.sign/4` as NervesHub verifies it: PBKDF2 key
 * derivation over a salt built from the signed headers, an Erlang-term payload, and an HS256 MAC. Pure: the
 * signing time is an argument.
 */
import { createHmac, pbkdf2Sync } from 'node:crypto';
import { describeValue } from '@nerves-hub-link/message-text';
import {
  NH1_ALG,
  NH1_ALG_PREFIX,
  NH1_EMBEDDED_MAX_AGE_SECONDS,
  NH1_PROTECTED,
  NH1_SALT_CONTEXT,
} from './constants.js';
import { AuthError, invalidArgument } from './errors.js';

/** PBKDF2 digests the server accepts in the algorithm string. */
const PBKDF2_DIGESTS: Readonly<Record<string, string>> = {
  sha: 'sha1',
  sha224: 'sha224',
  sha256: 'sha256',
  sha384: 'sha384',
  sha512: 'sha512',
};

export interface Nh1Algorithm {
  /** Node digest name for PBKDF2 (`sha256`). The token MAC is always HMAC-SHA256. */
  readonly digest: string;
  readonly iterations: number;
  readonly keyLength: number;
}

export interface Nh1SignInput {
  /** Key id sent as `x-nh-key`: a product key (`nhp_…`) or a device key. */
  readonly key: string;
  readonly secret: string;
  readonly identifier: string;
  /** Unix time in whole seconds, sent as `x-nh-time` and embedded (× 1000) in the payload. */
  readonly signedAt: number;
  /** @default 'NH1-HMAC-sha256-1000-32' */
  readonly alg?: string;
}

/** Parses `NH1-HMAC-<digest>-<iterations>-<key_length>` the way the server does. */
export function parseNh1Algorithm(alg: string): Nh1Algorithm {
  const parts = alg.startsWith(NH1_ALG_PREFIX) ? alg.slice(NH1_ALG_PREFIX.length).split('-') : [];
  const [digestName, iterations, keyLength] = parts;
  const digest = digestName === undefined ? undefined : PBKDF2_DIGESTS[digestName.toLowerCase()];
  if (
    parts.length !== 3 ||
    digest === undefined ||
    !/^[1-9]\d{0,6}$/.test(iterations ?? '') ||
    !/^[1-9]\d{0,3}$/.test(keyLength ?? '')
  ) {
    throw invalidArgument(
      'alg',
      '"NH1-HMAC-<sha|sha224|sha256|sha384|sha512>-<iterations>-<key length>"',
      alg,
    );
  }
  return { digest, iterations: Number(iterations), keyLength: Number(keyLength) };
}

/** The PBKDF2 salt: context line, empty line, then the three signed header lines, each ending in "\n". */
export function buildNh1Salt(alg: string, key: string, signedAt: string): string {
  return `${NH1_SALT_CONTEXT}\n\nx-nh-alg=${alg}\nx-nh-key=${key}\nx-nh-time=${signedAt}\n`;
}

export function deriveNh1Key(secret: string, salt: string, algorithm: Nh1Algorithm): Buffer {
  return pbkdf2Sync(
    Buffer.from(secret, 'utf8'),
    Buffer.from(salt, 'utf8'),
    algorithm.iterations,
    algorithm.keyLength,
    algorithm.digest,
  );
}

/** Erlang External Term Format of `{identifier, signedAtMs, maxAgeSeconds}`, as `:erlang.term_to_binary/1`. */
export function encodeNh1Payload(
  identifier: string,
  signedAtMs: number,
  maxAgeSeconds: number = NH1_EMBEDDED_MAX_AGE_SECONDS,
): Buffer {
  const name = Buffer.from(identifier, 'utf8');
  const binaryHeader = Buffer.alloc(5);
  binaryHeader[0] = 109; // BINARY_EXT
  binaryHeader.writeUInt32BE(name.length, 1);
  return Buffer.concat([
    Buffer.from([131, 104, 3]), // version, SMALL_TUPLE_EXT arity 3
    binaryHeader,
    name,
    encodeInteger(signedAtMs),
    encodeInteger(maxAgeSeconds),
  ]);
}

/** An Erlang integer term in the smallest form term_to_binary picks. */
export function encodeInteger(value: number): Buffer {
  if (!Number.isSafeInteger(value)) {
    throw new AuthError('AUTH_INVALID_ARGUMENT', `expected a safe integer, got ${describeValue(value)}`);
  }
  if (value >= 0 && value <= 255) return Buffer.from([97, value]); // SMALL_INTEGER_EXT
  if (value >= -(2 ** 31) && value < 2 ** 31) {
    const out = Buffer.alloc(5);
    out[0] = 98; // INTEGER_EXT
    out.writeInt32BE(value, 1);
    return out;
  }
  const digits: number[] = [];
  let magnitude = BigInt(Math.abs(value));
  while (magnitude > 0n) {
    digits.push(Number(magnitude & 0xffn));
    magnitude >>= 8n;
  }
  return Buffer.from([110, digits.length, value < 0 ? 1 : 0, ...digits]); // SMALL_BIG_EXT, little-endian
}

export function base64UrlNoPad(data: Buffer | string): string {
  return Buffer.from(data).toString('base64url');
}

/** `"SFMyNTY." + b64url(payload) + "." + b64url(HMAC-SHA256(derivedKey, signing input))`. */
export function buildNh1Token(derivedKey: Buffer, payload: Buffer): string {
  const signingInput = `${NH1_PROTECTED}.${base64UrlNoPad(payload)}`;
  const mac = createHmac('sha256', derivedKey).update(signingInput, 'utf8').digest();
  return `${signingInput}.${base64UrlNoPad(mac)}`;
}

/** Signs one NH1 token for the given inputs. Costs one PBKDF2 run (about a millisecond at 1000 iterations). */
export function signNh1Token(input: Nh1SignInput): string {
  const alg = input.alg ?? NH1_ALG;
  const algorithm = parseNh1Algorithm(alg);
  if (!Number.isSafeInteger(input.signedAt) || input.signedAt < 0) {
    throw invalidArgument('signedAt', 'whole Unix seconds >= 0', input.signedAt);
  }
  const salt = buildNh1Salt(alg, input.key, String(input.signedAt));
  const derivedKey = deriveNh1Key(input.secret, salt, algorithm);
  return buildNh1Token(derivedKey, encodeNh1Payload(input.identifier, input.signedAt * 1000));
}
