/**
 * Verifies NervesHub shared-secret ("NH1") upgrade headers the way the server does (nerves_hub_web
 * lib/nerves_hub/device_link/authentication.ex with plug_crypto), written independently of the client's signer.
 */
import { createHmac, pbkdf2Sync, timingSafeEqual } from 'node:crypto';

export interface SharedSecretKeys {
  /** Product keys (`nhp_…`): the identifier in the token is trusted. */
  readonly product: ReadonlyMap<string, string>;
  /** Device keys: the identifier in the token must be the key's device. */
  readonly device: ReadonlyMap<string, { secret: string; identifier: string }>;
}

export interface VerifyOptions {
  readonly nowMs: number;
  /** @default 90 (NervesHub's default) */
  readonly maxAgeSeconds?: number;
  /** plug_crypto 2.1.1 accepted tokens from the future; 2.2.0 (what NervesHub locks) does not. @default false */
  readonly allowFutureTokens?: boolean;
}

export type VerifyResult =
  | { readonly ok: true; readonly identifier: string; readonly keyKind: 'product' | 'device' }
  | { readonly ok: false; readonly reason: string };

const DIGESTS = new Map([
  ['sha', 'sha1'],
  ['sha224', 'sha224'],
  ['sha256', 'sha256'],
  ['sha384', 'sha384'],
  ['sha512', 'sha512'],
]);

export function verifySharedSecret(
  headers: Readonly<Record<string, string | undefined>>,
  keys: SharedSecretKeys,
  options: VerifyOptions,
): VerifyResult {
  const alg = headers['x-nh-alg'];
  const key = headers['x-nh-key'];
  const time = headers['x-nh-time'];
  const token = headers['x-nh-signature'];
  if (!alg || !key || !time || !token) return { ok: false, reason: 'missing x-nh-* header' };
  const match = /^NH1-HMAC-([^-]+)-(\d+)-(\d+)$/.exec(alg);
  const digest = match && DIGESTS.get(match[1]!.toLowerCase());
  if (!match || !digest) return { ok: false, reason: 'unsupported x-nh-alg' };
  const product = keys.product.get(key);
  const device = keys.device.get(key);
  const secret = product ?? device?.secret;
  if (secret === undefined) return { ok: false, reason: 'unknown key' };

  const salt = `NH1:device-socket:shared-secret:connect\n\nx-nh-alg=${alg}\nx-nh-key=${key}\nx-nh-time=${time}\n`;
  const derived = pbkdf2Sync(secret, salt, Number(match[2]), Number(match[3]), digest);
  const parts = token.split('.');
  if (parts.length !== 3 || parts[0] !== 'SFMyNTY') return { ok: false, reason: 'malformed token' };
  const mac = createHmac('sha256', derived).update(`${parts[0]}.${parts[1]}`).digest();
  const given = Buffer.from(parts[2]!, 'base64url');
  if (given.length !== mac.length || !timingSafeEqual(given, mac))
    return { ok: false, reason: 'bad signature' };

  const payload = decodePayload(Buffer.from(parts[1]!, 'base64url'));
  if (!payload) return { ok: false, reason: 'malformed payload' };
  const ageMs = options.nowMs - payload.signedAtMs;
  if (ageMs > (options.maxAgeSeconds ?? 90) * 1000) return { ok: false, reason: 'expired' };
  if (ageMs < 0 && !options.allowFutureTokens) return { ok: false, reason: 'signed in the future' };
  if (device && device.identifier !== payload.identifier) return { ok: false, reason: 'identifier mismatch' };
  return { ok: true, identifier: payload.identifier, keyKind: product !== undefined ? 'product' : 'device' };
}

/** Decodes the Erlang term `{identifier :: binary, signed_at_ms :: integer, max_age :: integer}`. */
export function decodePayload(etf: Buffer): { identifier: string; signedAtMs: number } | undefined {
  try {
    let at = 0;
    if (etf[at++] !== 131 || etf[at++] !== 104 || etf[at++] !== 3) return undefined;
    if (etf[at++] !== 109) return undefined;
    const length = etf.readUInt32BE(at);
    at += 4;
    const identifier = etf.subarray(at, at + length).toString('utf8');
    at += length;
    const [signedAtMs, next] = readInteger(etf, at);
    readInteger(etf, next);
    return { identifier, signedAtMs };
  } catch {
    return undefined;
  }
}

function readInteger(etf: Buffer, at: number): [number, number] {
  const tag = etf[at];
  if (tag === 97) return [etf[at + 1]!, at + 2];
  if (tag === 98) return [etf.readInt32BE(at + 1), at + 5];
  if (tag === 110) {
    const n = etf[at + 1]!;
    const sign = etf[at + 2]!;
    let value = 0;
    for (let i = n - 1; i >= 0; i--) value = value * 256 + etf[at + 3 + i]!;
    return [sign ? -value : value, at + 3 + n];
  }
  throw new Error('unsupported integer');
}
