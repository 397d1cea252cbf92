/** What a device certificate says about itself, and what is worth warning about before connecting. */
import type { X509Certificate } from 'node:crypto';
import { DEFAULT_EXPIRY_WARNING_DAYS } from './constants.js';
import { commonNameOf, fingerprintSha1, subjectLine } from './pem.js';

export interface CertificateReport {
  /** The subject CN: NervesHub's device identifier for a new certificate. */
  readonly commonName: string | undefined;
  readonly subject: string;
  readonly issuer: string;
  readonly notBefore: Date;
  readonly notAfter: Date;
  /** SHA-1 of the DER, uppercase hex: how NervesHub recognises a known certificate. */
  readonly fingerprint: string;
  /** Expired, not yet valid, or close to its end: told to the operator, never fatal (see below). */
  readonly warnings: readonly string[];
}

export interface CheckCertificateOptions {
  /** @default Date.now() */
  readonly nowMs?: number;
  /** @default 30 */
  readonly expiryWarningDays?: number;
}

/**
 * Reports on the leaf certificate. Dates produce warnings, not errors: NervesHub does not check the expiry of a
 * certificate it already knows (nerves_hub_web lib/nerves_hub/ssl.ex), and a device whose clock is not set yet
 * (no RTC, before NTP) sees every certificate as "not yet valid".
 */
export function checkCertificate(
  leaf: X509Certificate,
  options: CheckCertificateOptions = {},
): CertificateReport {
  const nowMs = options.nowMs ?? Date.now();
  const warnDays = options.expiryWarningDays ?? DEFAULT_EXPIRY_WARNING_DAYS;
  const notBefore = new Date(leaf.validFrom);
  const notAfter = new Date(leaf.validTo);
  const subject = subjectLine(leaf.subject);
  const warnings: string[] = [];
  if (nowMs > notAfter.getTime()) {
    warnings.push(
      `the device certificate (${subject}) expired on ${notAfter.toISOString()}; a server that does not know it yet will refuse it`,
    );
  } else if (nowMs < notBefore.getTime()) {
    warnings.push(
      `the device certificate (${subject}) is valid only from ${notBefore.toISOString()}; is the device clock set? (now: ${new Date(nowMs).toISOString()})`,
    );
  } else {
    const daysLeft = Math.floor((notAfter.getTime() - nowMs) / 86_400_000);
    if (daysLeft < warnDays) {
      warnings.push(
        `the device certificate (${subject}) expires in ${daysLeft} day(s), on ${notAfter.toISOString()}`,
      );
    }
  }
  return {
    commonName: commonNameOf(leaf),
    subject,
    issuer: subjectLine(leaf.issuer),
    notBefore,
    notAfter,
    fingerprint: fingerprintSha1(leaf),
    warnings,
  };
}
