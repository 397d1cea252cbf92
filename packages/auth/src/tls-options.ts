/** TLS options shared by the WebSocket and the firmware download: one secure context, built once. */
import { createPrivateKey, type KeyObject, type X509Certificate } from 'node:crypto';
import { createSecureContext, rootCertificates, type SecureContext, type SecureVersion } from 'node:tls';
import {
  type CertificateReport,
  type CheckCertificateOptions,
  checkCertificate,
} from './certificate-check.js';
import { MAX_CA_FILE_BYTES, TLS_VERSIONS } from './constants.js';
import { engineKeyError, prepareEngineDirectory } from './engine-key.js';
import { AuthError, invalidArgument } from './errors.js';
import { parseCertificates, readPemFile, subjectLine } from './pem.js';
import { withPinOutsideKeyId } from './pin-source.js';

export type TlsVersionSetting = keyof typeof TLS_VERSIONS;

export interface CreateTlsOptionsInput extends CheckCertificateOptions {
  /** Device certificate (PEM), optionally followed by its signer chain. Omit for server trust only. */
  readonly certFile?: string;
  /** Private key (PEM, unencrypted) matching `certFile`. */
  readonly keyFile?: string;
  /** OpenSSL engine holding the private key instead: `pkcs11`, `cryptoauthlib`, or a path to the engine. */
  readonly keyEngine?: string;
  /**
   * The key inside `keyEngine`, e.g. `pkcs11:token=dev;object=device;type=private;pin-value=…`. A `pin-value`
   * is never shown to OpenSSL: it is handed to the engine as a temporary `pin-source` file instead.
   */
  readonly keyId?: string;
  /** Extra trust anchors (PEM) for the server and the firmware host, added to the system's CAs. */
  readonly caFile?: string;
  /** @default 'TLSv1.2' (what NervesHub devices and servers use unless TLS 1.3 is turned on) */
  readonly tlsVersion?: TlsVersionSetting;
}

export interface TlsOptions {
  /** Certificate, key, trust anchors and versions; pass it to ws (`tls.secureContext`) and undici (`connect`). */
  readonly secureContext: SecureContext;
  readonly minVersion: SecureVersion;
  readonly maxVersion: SecureVersion;
  /** The trust anchors in force (system CAs plus `caFile`), for clients that take `ca` rather than a context. */
  readonly ca: readonly string[];
  /** The device certificate, when one was given. */
  readonly certificate: CertificateReport | undefined;
  /** What the operator should hear about before connecting (certificate dates). */
  readonly warnings: readonly string[];
}

/**
 * Reads and checks everything once, so that a bad file, a key that does not match, a missing engine or a wrong
 * PIN is reported at start with the file or key named, not as an obscure handshake failure later.
 * Throws AuthError: AUTH_FILE_UNREADABLE, AUTH_CERT_INVALID, AUTH_CA_INVALID, AUTH_KEY_INVALID, AUTH_KEY_MISMATCH,
 * AUTH_ENGINE_NOT_FOUND, AUTH_PIN_INCORRECT, AUTH_PIN_REQUIRED, AUTH_PIN_LOCKED, AUTH_KEY_NOT_FOUND,
 * AUTH_ENGINE_KEY_FAILED, AUTH_INVALID_ARGUMENT.
 */
export async function createTlsOptions(input: CreateTlsOptionsInput = {}): Promise<TlsOptions> {
  const version = TLS_VERSIONS[input.tlsVersion ?? 'TLSv1.2'];
  if (!version) throw invalidArgument('tlsVersion', '"TLSv1.2", "TLSv1.3" or "any"', input.tlsVersion);
  const ca = [...rootCertificates, ...(input.caFile ? await readCaFile(input.caFile) : [])];

  if (input.certFile === undefined) {
    if (input.keyFile || input.keyEngine)
      throw invalidArgument('certFile', 'a certificate for the key', undefined);
    return {
      secureContext: createSecureContext({ ca, ...version }),
      ...version,
      ca,
      certificate: undefined,
      warnings: [],
    };
  }

  const certPem = await readPemFile(input.certFile, 'certFile', 'the device certificate');
  const chain = parseCertificates(certPem, input.certFile, 'certFile');
  const report = checkCertificate(chain[0]!, input);
  let secureContext: SecureContext;
  if (input.keyEngine !== undefined || input.keyId !== undefined) {
    secureContext = engineContext(input, certPem, ca, version);
  } else if (input.keyFile !== undefined) {
    const keyPem = await readPemFile(input.keyFile, 'keyFile', 'the private key');
    const key = parsePrivateKey(keyPem, input.keyFile);
    checkKeyMatches(chain, key, input.certFile, input.keyFile);
    secureContext = createSecureContext({ ca, cert: certPem, key: keyPem, ...version });
  } else {
    throw invalidArgument('keyFile', 'a private key file, or keyEngine and keyId', undefined);
  }
  return { secureContext, ...version, ca, certificate: report, warnings: report.warnings };
}

async function readCaFile(path: string): Promise<string[]> {
  const pem = await readPemFile(path, 'caFile', 'the CA certificates', MAX_CA_FILE_BYTES);
  return parseCertificates(pem, path, 'caFile', 'AUTH_CA_INVALID').map((certificate) =>
    certificate.toString(),
  );
}

function engineContext(
  input: CreateTlsOptionsInput,
  certPem: string,
  ca: readonly string[],
  version: { minVersion: SecureVersion; maxVersion: SecureVersion },
): SecureContext {
  const { keyEngine, keyId } = input;
  if (!keyEngine) throw invalidArgument('keyEngine', 'an OpenSSL engine name such as "pkcs11"', keyEngine);
  if (!keyId) throw invalidArgument('keyId', 'the key inside the engine, such as a "pkcs11:" URI', keyId);
  prepareEngineDirectory(keyEngine);
  // Loading the key logs in to the token: a wrong PIN or a missing object fails here, before any connection.
  // The engine never sees a PIN inside the key id: it may print the key id on failure.
  return withPinOutsideKeyId(keyId, (engineKeyId) => {
    try {
      return createSecureContext({
        ca: [...ca],
        cert: certPem,
        privateKeyEngine: keyEngine,
        privateKeyIdentifier: engineKeyId,
        ...version,
      });
    } catch (error) {
      throw engineKeyError(error, keyEngine, keyId, input.certFile);
    }
  });
}

function parsePrivateKey(pem: string, path: string): KeyObject {
  if (/-----BEGIN CERTIFICATE-----/.test(pem) && !/PRIVATE KEY-----/.test(pem)) {
    throw new AuthError(
      'AUTH_KEY_INVALID',
      `${path} (keyFile) holds a certificate, not a private key: did you swap the certificate and key paths?`,
      { option: 'keyFile' },
    );
  }
  try {
    return createPrivateKey(pem);
  } catch (error) {
    const encrypted = /ENCRYPTED|passphrase/i.test(`${pem.slice(0, 64)} ${(error as Error).message}`);
    throw new AuthError(
      'AUTH_KEY_INVALID',
      encrypted
        ? `${path} (keyFile) is encrypted; store it unencrypted with tight permissions (openssl pkey -in KEY -out KEY.plain) or keep it in an HSM`
        : `${path} (keyFile) is not a PEM private key (${(error as Error).message})`,
      { cause: error, option: 'keyFile' },
    );
  }
}

function checkKeyMatches(chain: X509Certificate[], key: KeyObject, certFile: string, keyFile: string): void {
  const leaf = chain[0]!;
  if (leaf.checkPrivateKey(key)) return;
  const other = chain.findIndex((certificate) => certificate.checkPrivateKey(key));
  const hint =
    other > 0
      ? ` (it matches certificate ${other + 1} of the file: the device certificate must come first)`
      : ' (they come from different devices or a certificate was re-issued for a new key)';
  throw new AuthError(
    'AUTH_KEY_MISMATCH',
    `the private key ${keyFile} does not belong to the certificate ${certFile} (${subjectLine(leaf.subject)})${hint}`,
    { option: 'keyFile' },
  );
}
