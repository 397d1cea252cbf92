import type { TableReader } from '../table-reader.js';
import { pinList } from '../value-keys.js';

export type AuthConfig =
  | {
      readonly method: 'mtls';
      readonly certFile: string;
      readonly keyFile?: string;
      readonly keyEngine?: string;
      readonly keyId?: string;
      readonly caFile?: string;
      /** `sha256/…` public-key pins of the device socket's server (any certificate of its chain). */
      readonly serverPins?: readonly string[];
    }
  | {
      readonly method: 'shared_secret';
      readonly key: string;
      readonly secret?: string;
      readonly secretFile?: string;
      readonly caFile?: string;
      readonly serverPins?: readonly string[];
    };

/** `[auth]`: a device certificate and its key (a file, or inside an HSM), or NervesHub's shared secret. */
export function readAuth(auth: TableReader): AuthConfig {
  const method = auth.oneOf('method', ['mtls', 'shared_secret'] as const, undefined);
  const caFile = auth.string('ca_file', 'a path to extra trusted CA certificates (PEM)');
  const optional = <T extends object>(value: T): T =>
    Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
  if (method === 'shared_secret') {
    const key = auth.requiredString('key', 'the NervesHub key id, a product key "nhp_…" or a device key');
    const secret = auth.string('secret', 'the shared secret as a string', { secret: true });
    const secretFile = auth.string('secret_file', 'a path to a file holding the shared secret');
    if (secret === undefined && secretFile === undefined && !auth.has('secret') && !auth.has('secret_file')) {
      auth.problem('secret', 'missing; set secret = "…" or secret_file = "/path/to/secret"');
    }
    if (secret !== undefined && secretFile !== undefined) {
      auth.problem('secret_file', 'set either secret or secret_file, not both');
    }
    const serverPins = pinList(auth, 'server_pins');
    auth.rejectUnknown();
    return optional({ method, key: key ?? '', secret, secretFile, caFile, serverPins });
  }
  const certFile = auth.requiredString('cert_file', 'a path to the device certificate (PEM)');
  const keyFile = auth.string('key_file', 'a path to the device private key (PEM)');
  const keyEngine = auth.string('key_engine', 'an OpenSSL engine id, e.g. "pkcs11"');
  // A PKCS#11 URI may hold the PIN (pin-value=…): never echoed either.
  const keyId = auth.string('key_id', 'the key identifier for the engine, e.g. "pkcs11:token=…;object=…"', {
    secret: true,
  });
  if (keyFile !== undefined && (keyEngine !== undefined || keyId !== undefined)) {
    auth.problem('key_file', 'set either key_file or key_engine + key_id, not both');
  } else if (keyFile === undefined && !auth.has('key_file')) {
    if (keyEngine === undefined && !auth.has('key_engine') && keyId === undefined && !auth.has('key_id')) {
      auth.problem(
        'key_file',
        'missing; set key_file = "/path/key.pem", or key_engine and key_id for an HSM key',
      );
    } else if (keyEngine === undefined && !auth.has('key_engine')) {
      auth.problem(
        'key_engine',
        'missing; key_id needs the engine that holds the key, e.g. key_engine = "pkcs11"',
      );
    } else if (keyId === undefined && !auth.has('key_id')) {
      auth.problem(
        'key_id',
        'missing; key_engine needs the key identifier, e.g. key_id = "pkcs11:object=device"',
      );
    }
  }
  const serverPins = pinList(auth, 'server_pins');
  auth.rejectUnknown();
  return optional({
    method: 'mtls' as const,
    certFile: certFile ?? '',
    keyFile,
    keyEngine,
    keyId,
    caFile,
    serverPins,
  });
}
