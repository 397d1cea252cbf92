/**
 * DeviceSocket.connect/3 (nerves_hub_web lib/nerves_hub_web/channels/device_socket.ex lines 58-73): a client
 * certificate, when the TLS handshake produced one, identifies the device (its CN); otherwise any `x-` header selects
 * the shared-secret check of the NH1 headers; otherwise `:no_auth`. Refusals as
 * lib/nerves_hub_web/helpers/websocket_connection_error.ex (lines 4-22) writes them: 401 with
 * `nh-connection-error-reason` for no credentials, 401 with an empty body for bad ones.
 */
import type { IncomingMessage } from 'node:http';
import type { HttpAnswer } from './http-answer.js';
import { type SharedSecretKeys, verifySharedSecret } from './nh1-verifier.js';

const NO_AUTH = 'no certificate pair or shared secrets connection settings were provided';

export interface SharedSecretPolicy {
  readonly keys: SharedSecretKeys;
  readonly maxAgeSeconds: number;
  readonly allowFutureTokens: boolean;
}

export type Authentication =
  | { readonly ok: true; readonly identifier: string; readonly method: 'certificate' | 'shared-secret' }
  | { readonly ok: false; readonly answer: HttpAnswer };

/** `certificateIdentifier`: the CN of a certificate the handshake accepted, or undefined when there was none. */
export function authenticateDevice(
  req: IncomingMessage,
  certificateIdentifier: string | undefined,
  policy: SharedSecretPolicy,
): Authentication {
  if (certificateIdentifier !== undefined) {
    return { ok: true, identifier: certificateIdentifier, method: 'certificate' };
  }
  const headers = req.headers as Record<string, string | undefined>;
  if (!Object.keys(headers).some((name) => name.startsWith('x-'))) {
    return {
      ok: false,
      answer: { status: 401, headers: { 'nh-connection-error-reason': NO_AUTH }, body: NO_AUTH },
    };
  }
  const result = verifySharedSecret(headers, policy.keys, {
    nowMs: Date.now(),
    maxAgeSeconds: policy.maxAgeSeconds,
    allowFutureTokens: policy.allowFutureTokens,
  });
  if (!result.ok) return { ok: false, answer: { status: 401 } };
  return { ok: true, identifier: result.identifier, method: 'shared-secret' };
}
