/**
 * Which client certificates the device endpoint accepts (nerves_hub_web lib/nerves_hub/ssl.ex `decide`,
 * lines 73-111, with `verify_cert` lines 138-154). The endpoint asks for a certificate without requiring one
 * (config/runtime.exs lines 196-203: `verify: :verify_peer`, `fail_if_no_peer_cert: false`): a device without one
 * goes on to the shared-secret check. A certificate NervesHub has on record (by fingerprint) is accepted even when
 * it has expired or its chain cannot be built (expiry is only checked for certificates it does not have yet);
 * any other must pass path validation against a CA NervesHub knows, expiry included. A
 * certificate that passes is stored with the device (registration, `create_device_certificate`), so it stays
 * known after it expires. A refused certificate ends the handshake.
 */
import type { TLSSocket } from 'node:tls';

export type PeerDecision =
  | { readonly kind: 'none' }
  | { readonly kind: 'accepted'; readonly identifier: string }
  | { readonly kind: 'refused'; readonly reason: string };

/** OpenSSL's codes for the two failures `decide` lets a known certificate through: `:cert_expired`, `:unknown_ca`. */
const FORGIVEN_FOR_KNOWN = new Set([
  'CERT_HAS_EXPIRED',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
]);

/** The device certificates NervesHub has on record, by SHA-256 fingerprint. */
export class KnownCertificates {
  readonly #fingerprints = new Set<string>();

  add(fingerprint256: string): void {
    this.#fingerprints.add(fingerprint256);
  }

  has(fingerprint256: string): boolean {
    return this.#fingerprints.has(fingerprint256);
  }
}

/** Decides on the peer of a finished handshake of a server with `requestCert: true, rejectUnauthorized: false`. */
export function decidePeer(socket: TLSSocket, known: KnownCertificates): PeerDecision {
  const certificate = socket.getPeerCertificate();
  if (!certificate || Object.keys(certificate).length === 0) return { kind: 'none' };
  const fingerprint = certificate.fingerprint256;
  const error = socket.authorizationError ? String(socket.authorizationError) : undefined;
  const isKnown = known.has(fingerprint);
  if (!socket.authorized && !(isKnown && error !== undefined && FORGIVEN_FOR_KNOWN.has(error))) {
    return { kind: 'refused', reason: error ?? 'not authorized' };
  }
  const cn = certificate.subject?.CN;
  const identifier = Array.isArray(cn) ? cn[0] : cn;
  // check_common_name: a certificate without a CN is refused.
  if (!identifier) return { kind: 'refused', reason: 'missing common name' };
  if (!isKnown) known.add(fingerprint);
  return { kind: 'accepted', identifier };
}
