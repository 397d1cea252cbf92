// NH1 upgrade headers for tests, signed the way Plug.Crypto signs them (the recorded vectors check this signer).
import { createHmac, pbkdf2Sync } from 'node:crypto';

const ALG = 'NH1-HMAC-sha256-1000-32';

export function nh1Headers(
  key: string,
  secret: string,
  identifier: string,
  signedAtMs = Date.now() - 1000,
): Record<string, string> {
  const time = String(Math.floor(signedAtMs / 1000));
  const salt = `NH1:device-socket:shared-secret:connect\n\nx-nh-alg=${ALG}\nx-nh-key=${key}\nx-nh-time=${time}\n`;
  const derived = pbkdf2Sync(secret, salt, 1000, 32, 'sha256');
  const payload = `SFMyNTY.${termOf(identifier, signedAtMs).toString('base64url')}`;
  const mac = createHmac('sha256', derived).update(payload).digest('base64url');
  return { 'x-nh-alg': ALG, 'x-nh-key': key, 'x-nh-time': time, 'x-nh-signature': `${payload}.${mac}` };
}

/** `{identifier, signed_at_ms, 86400}` in Erlang's external term format. */
function termOf(identifier: string, signedAtMs: number): Buffer {
  const id = Buffer.from(identifier, 'utf8');
  const head = Buffer.from([131, 104, 3, 109, 0, 0, 0, 0]);
  head.writeUInt32BE(id.length, 4);
  const digits: number[] = [];
  for (let rest = signedAtMs; rest > 0; rest = Math.floor(rest / 256)) digits.push(rest % 256);
  const maxAge = Buffer.from([98, 0, 0, 0, 0]);
  maxAge.writeInt32BE(86_400, 1);
  return Buffer.concat([head, id, Buffer.from([110, digits.length, 0, ...digits]), maxAge]);
}
