/** Explains why a TLS connection to the server or the firmware host failed, with the likely fix. */
import { type AuthErrorCode, type AuthOption, TlsConnectionError } from './errors.js';

interface Rule {
  readonly code: AuthErrorCode;
  readonly match: RegExp;
  readonly explain: (host: string) => string;
  /** The createTlsOptions input the fix is in, if one is. */
  readonly option?: AuthOption;
}

// Node's verification codes (error.code) and OpenSSL alert texts (error.message), most specific first.
const RULES: readonly Rule[] = [
  {
    code: 'AUTH_SERVER_CERT_EXPIRED',
    match: /^CERT_HAS_EXPIRED$/,
    explain: (host) => `the certificate of ${host} has expired (or the device clock is far ahead)`,
  },
  {
    code: 'AUTH_SERVER_CERT_NOT_YET_VALID',
    match: /^CERT_NOT_YET_VALID$/,
    explain: (host) => `the certificate of ${host} is not valid yet: is the device clock set?`,
  },
  {
    code: 'AUTH_SERVER_NAME_MISMATCH',
    match: /^ERR_TLS_CERT_ALTNAME_INVALID$/,
    explain: (host) => `the certificate of ${host} is for another name: check the uri`,
  },
  {
    code: 'AUTH_SERVER_UNTRUSTED',
    match:
      /^(UNABLE_TO_VERIFY_LEAF_SIGNATURE|UNABLE_TO_GET_ISSUER_CERT(_LOCALLY)?|SELF_SIGNED_CERT_IN_CHAIN|DEPTH_ZERO_SELF_SIGNED_CERT|CERT_SIGNATURE_FAILURE|CERT_UNTRUSTED)$/,
    explain: (host) =>
      `the certificate of ${host} is not signed by a trusted CA: add the server's CA to auth.ca_file`,
    option: 'caFile',
  },
  {
    code: 'AUTH_CLIENT_CERT_REQUIRED',
    match: /alert certificate required|alert number 116/i,
    explain: (host) => `${host} requires a device certificate and none was sent: configure auth.cert_file`,
    option: 'certFile',
  },
  {
    code: 'AUTH_CLIENT_CERT_REJECTED',
    match:
      /alert (unknown ca|bad certificate|certificate (expired|revoked|unknown|unsupported)|access denied|decrypt error)|alert number (42|43|44|45|46|48|49|51)\b/i,
    explain: (host) =>
      `${host} refused the device certificate (auth.cert_file): NervesHub does not know it or the CA that signed it ` +
      '(register the certificate, or its signer CA, with the organization in NervesHub), or it expired, or the key ' +
      'does not match it',
    option: 'certFile',
  },
  {
    code: 'AUTH_TLS_VERSION_MISMATCH',
    match:
      /unsupported protocol|wrong version number|protocol version|alert number 70\b|no protocols available/i,
    explain: (host) => `${host} does not speak the configured TLS version: check tls_version`,
    option: 'tlsVersion',
  },
];

/**
 * Maps an error of a TLS connection attempt (possibly wrapped: the `cause` chain is searched) to a
 * `TlsConnectionError` with an AUTH_* code, or returns undefined when it is not a TLS failure.
 * A connection reset during the handshake is also how a server rejects an unknown client certificate
 * under TLS 1.2; callers may mention that when a reset repeats.
 */
export function describeTlsError(error: unknown, host: string): TlsConnectionError | undefined {
  for (let current = error, depth = 0; current instanceof Error && depth < 6; depth++) {
    const tlsCode = String((current as { code?: unknown }).code ?? '');
    const text = current.message;
    for (const rule of RULES) {
      if (rule.match.test(tlsCode) || rule.match.test(text)) {
        const alert = /alert ([a-z ]+?)(?::|$)/i.exec(text)?.[1]?.trim().replaceAll(' ', '_');
        return new TlsConnectionError(rule.code, rule.explain(host), {
          tlsCode,
          alert,
          cause: current,
          ...(rule.option ? { option: rule.option } : {}),
        });
      }
    }
    if (tlsCode === 'ECONNRESET' && /before secure TLS connection/i.test(text)) {
      return new TlsConnectionError(
        'AUTH_TLS_HANDSHAKE_FAILED',
        `${host} closed the connection during the TLS handshake: most likely it does not accept the device ` +
          'certificate (auth.cert_file): register the certificate, or the CA that signed it, with the organization ' +
          'in NervesHub; if it was accepted before, the server may be limiting new connections',
        { tlsCode, cause: current, option: 'certFile' },
      );
    }
    if (/^ERR_SSL_|^ERR_TLS_/.test(tlsCode)) {
      return new TlsConnectionError(
        'AUTH_TLS_HANDSHAKE_FAILED',
        `TLS handshake with ${host} failed: ${text}`,
        {
          tlsCode,
          cause: current,
        },
      );
    }
    current = (current as { cause?: unknown }).cause;
  }
  return undefined;
}
