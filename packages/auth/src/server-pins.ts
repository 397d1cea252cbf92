/**
 * Public-key pinning of a TLS server, on top of CA verification. A pin is `sha256/` and the base64 SHA-256 of a
 * certificate's SubjectPublicKeyInfo (DER): the HPKP (RFC 7469) and curl `--pinnedpubkey` form, so
 * `openssl x509 -in cert.pem -pubkey -noout | openssl pkey -pubin -outform der | openssl dgst -sha256 -binary |
 * base64` gives one. A connection is accepted when any certificate of the chain that verified it (the server's
 * own, an intermediate or the CA that anchored it) matches any pin; the CA and host-name checks happen first and
 * are never skipped.
 */
import { createHash, X509Certificate } from 'node:crypto';
import { checkServerIdentity, type DetailedPeerCertificate, type PeerCertificate } from 'node:tls';
import { AuthError, ServerPinMismatchError } from './errors.js';
import { commonNameOf, subjectLine } from './pem.js';

export const PIN_PREFIX = 'sha256/';
/** 32 bytes of SHA-256 are 43 base64 characters and one `=`. */
const PIN_FORMAT = /^sha256\/[A-Za-z0-9+/]{43}=$/;
/** A chain longer than this is not walked further (a malformed certificate could point back into itself). */
const MAX_CHAIN = 10;

/** Why `value` is not a pin, or undefined when it is one. The value itself is not repeated. */
export function pinProblem(value: unknown): string | undefined {
  if (typeof value !== 'string') return 'expected a string "sha256/<base64 of 32 bytes>"';
  if (PIN_FORMAT.test(value)) return undefined;
  if (!value.startsWith(PIN_PREFIX)) {
    return 'expected "sha256/" followed by the base64 SHA-256 of the public key (SubjectPublicKeyInfo)';
  }
  return 'expected "sha256/" and 44 base64 characters (a SHA-256 digest ending in "=")';
}

/**
 * Checks every pin; throws `AUTH_INVALID_ARGUMENT` naming the first bad one as `setting[index]`.
 * @returns a copy of the pins
 */
export function parsePins(pins: readonly unknown[], setting: string): string[] {
  if (!Array.isArray(pins)) {
    throw new AuthError('AUTH_INVALID_ARGUMENT', `${setting}: expected an array of "sha256/…" pins`, {
      option: 'pins',
    });
  }
  pins.forEach((pin, index) => {
    const problem = pinProblem(pin);
    if (problem) {
      throw new AuthError('AUTH_INVALID_ARGUMENT', `${setting}[${index}]: ${problem}`, { option: 'pins' });
    }
  });
  return [...(pins as string[])];
}

/**
 * The pin of a certificate. Node's `PeerCertificate.pubkey` is not the SubjectPublicKeyInfo for every key type
 * (for an EC key it is the bare point), so the key is read from the certificate's DER instead.
 */
export function spkiPin(certificate: X509Certificate | Buffer): string {
  const parsed = Buffer.isBuffer(certificate) ? new X509Certificate(certificate) : certificate;
  const spki = parsed.publicKey.export({ type: 'spki', format: 'der' });
  return `${PIN_PREFIX}${createHash('sha256').update(spki).digest('base64')}`;
}

/** One certificate of the chain a server presented, as an operator would copy it into a config. */
export interface PresentedCertificate {
  readonly pin: string;
  /** The subject's common name, else the whole subject on one line. */
  readonly subject: string;
}

/**
 * The chain behind a verified peer certificate (`getPeerCertificate(true)`, which is what `checkServerIdentity`
 * receives): the server's certificate first, then each issuer up to the anchor.
 */
export function presentedChain(peer: PeerCertificate | DetailedPeerCertificate): PresentedCertificate[] {
  const chain: PresentedCertificate[] = [];
  const seen = new Set<Buffer>();
  let current: PeerCertificate | undefined = peer;
  while (current?.raw && !seen.has(current.raw) && chain.length < MAX_CHAIN) {
    seen.add(current.raw);
    const parsed = new X509Certificate(current.raw);
    chain.push({ pin: spkiPin(parsed), subject: commonNameOf(parsed) ?? subjectLine(parsed.subject) });
    const issuer: PeerCertificate | undefined = (current as DetailedPeerCertificate).issuerCertificate;
    // The anchor is its own issuer; Node hands back the same object (or one with the same DER).
    if (!issuer || issuer === current || issuer.raw?.equals(current.raw)) break;
    current = issuer;
  }
  return chain;
}

export interface ServerPinCheckOptions {
  /** Pins in `sha256/…` form; empty: nothing is enforced, the chain is only recorded. */
  readonly pins: readonly string[];
  /** How the pins are named in messages (a config key). @default 'the server pins' */
  readonly setting?: string;
}

/**
 * A `checkServerIdentity` for `tls.connect` (ws `tls`, undici `connect`): Node's host-name check, then the pins.
 * Node calls it only for a chain the CA verification accepted, so a pin can never let in a server the CAs refuse.
 * It also records the chain of the last server checked, so a tool can show the pins an operator could set.
 * Note that a resumed TLS session is not checked again (Node skips the call): it can only resume a session the
 * same client verified before.
 */
export class ServerPinCheck {
  readonly pins: readonly string[];
  readonly #setting: string;
  #last: { readonly host: string; readonly chain: readonly PresentedCertificate[] } | undefined;

  constructor(options: ServerPinCheckOptions) {
    this.#setting = options.setting ?? 'the server pins';
    this.pins = parsePins(options.pins, this.#setting);
  }

  /** The host and chain of the last server checked (its name check passed or not). */
  get lastPresented():
    | { readonly host: string; readonly chain: readonly PresentedCertificate[] }
    | undefined {
    return this.#last;
  }

  readonly checkServerIdentity = (host: string, certificate: PeerCertificate): Error | undefined => {
    const chain = presentedChain(certificate);
    this.#last = { host, chain };
    const nameError = checkServerIdentity(host, certificate);
    if (nameError) return nameError;
    if (this.pins.length === 0) return undefined;
    if (chain.some((presented) => this.pins.includes(presented.pin))) return undefined;
    return new ServerPinMismatchError(host, chain, this.pins, this.#setting);
  };
}
