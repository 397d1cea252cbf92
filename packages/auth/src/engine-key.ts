/** Private keys held by an OpenSSL engine (pkcs11 for PKCS#11 HSMs and SoftHSM, cryptoauthlib for ATECC chips). */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { ENGINE_DIR_CANDIDATES, ENV_OPENSSL_ENGINES, MULTIARCH } from './constants.js';
import { AuthError } from './errors.js';
import { attributesNamed, attributeText, isPkcs11Uri, parsePkcs11Uri, percentDecode } from './pkcs11-uri.js';
import { redactKeyId } from './redact.js';

/**
 * Node's bundled OpenSSL does not search the distribution's engine folder, so a bare engine name such as
 * `pkcs11` is not found unless `OPENSSL_ENGINES` points there. When it is unset, set it to the first folder
 * holding `<engine>.so`. Returns the folder used, or undefined when the engine is a path or nothing was found.
 */
export function prepareEngineDirectory(
  engine: string,
  env: NodeJS.ProcessEnv = process.env,
): string | undefined {
  if (engine.includes('/')) return undefined;
  if (env[ENV_OPENSSL_ENGINES]) return env[ENV_OPENSSL_ENGINES];
  const multiarch = MULTIARCH[process.arch] ?? '';
  for (const candidate of ENGINE_DIR_CANDIDATES) {
    const dir = candidate.replace('{multiarch}', multiarch);
    if (existsSync(join(dir, `${engine}.so`))) {
      env[ENV_OPENSSL_ENGINES] = dir;
      return dir;
    }
  }
  return undefined;
}

/**
 * Turns the OpenSSL error of loading an engine key into an AuthError that names the engine, the key (PIN
 * redacted) and the likely fix. OpenSSL's codes are stable across 3.0.x; its messages are kept as `cause`.
 */
export function engineKeyError(
  error: unknown,
  engine: string,
  keyId: string,
  certFile = 'CERT.pem',
): AuthError {
  const code = String((error as { code?: unknown })?.code ?? '');
  const text = [
    (error as Error)?.message ?? '',
    ...(((error as { opensslErrorStack?: unknown })?.opensslErrorStack as string[] | undefined) ?? []),
  ].join(' | ');
  const key = redactKeyId(keyId);
  const where = `key ${key} of OpenSSL engine "${engine}"`;
  if (
    /could not load the shared library|no such engine|dso not found|ERR_CRYPTO_ENGINE_UNKNOWN/i.test(
      `${code} ${text}`,
    )
  ) {
    return new AuthError(
      'AUTH_ENGINE_NOT_FOUND',
      `OpenSSL engine "${engine}" not found: install it (Debian: libengine-pkcs11-openssl for pkcs11) or set ` +
        `${ENV_OPENSSL_ENGINES} to the folder that holds ${engine}.so (e.g. /usr/lib/${MULTIARCH[process.arch] ?? '<arch>'}/engines-3)`,
      { cause: error, option: 'keyEngine' },
    );
  }
  if (/key values mismatch/i.test(text)) {
    if (isPkcs11Uri(keyId) && PKCS11_MODULE_ERROR.test(text)) {
      return new AuthError('AUTH_TOKEN_PUBLIC_KEY_MISSING', publicKeyMissingMessage(where, keyId, certFile), {
        cause: error,
        option: 'keyId',
      });
    }
    return new AuthError('AUTH_KEY_MISMATCH', `${where} does not belong to the certificate`, {
      cause: error,
      option: 'keyId',
    });
  }
  if (code === 'ERR_OSSL_PIN_INCORRECT' || /PIN incorrect/i.test(text)) {
    return new AuthError(
      'AUTH_PIN_INCORRECT',
      `${where}: the PIN is wrong (check pin-value or the pin-source file; a file must not end with a newline)`,
      { cause: error, option: 'keyId' },
    );
  }
  if (/PIN locked/i.test(text)) {
    return new AuthError(
      'AUTH_PIN_LOCKED',
      `${where}: the token's PIN is locked; unlock it with the security officer PIN`,
      { cause: error, option: 'keyId' },
    );
  }
  if (code === 'ERR_OSSL_UI_PROCESSING_ERROR' || /UI routines|No PIN/i.test(text)) {
    return new AuthError(
      'AUTH_PIN_REQUIRED',
      `${where}: the token needs a PIN and none was given: add ";pin-value=…" or "?pin-source=file:/path" to the key id`,
      { cause: error, option: 'keyId' },
    );
  }
  if (code === 'ERR_OSSL_OBJECT_NOT_FOUND' || /object not found|failed loading private key/i.test(text)) {
    return new AuthError(
      'AUTH_KEY_NOT_FOUND',
      `${where}: no such private key: check the token label and object name or id (list them with \`pkcs11-tool --list-objects\`)`,
      { cause: error, option: 'keyId' },
    );
  }
  return new AuthError('AUTH_ENGINE_KEY_FAILED', `${where} cannot be used: ${firstLine(text)}`, {
    cause: error,
    option: 'keyId',
  });
}

/**
 * libp11 builds an EC key's public half from a public-key (or certificate) object with the same id: a private
 * key object carries no public point. When there is none, the key it returns cannot be compared with the
 * certificate and OpenSSL reports "key values mismatch", with the token's own errors (CKR_ATTRIBUTE_TYPE_INVALID,
 * CKR_OBJECT_HANDLE_INVALID) still queued below it. A genuine mismatch leaves no PKCS#11 error.
 */
const PKCS11_MODULE_ERROR = /PKCS#11 module::/;

function publicKeyMissingMessage(where: string, keyId: string, certFile: string): string {
  const uri = parsePkcs11Uri(keyId);
  const token = (uri && attributeText(uri, 'token')) ?? 'TOKEN';
  const object = uri && attributeText(uri, 'object');
  const idValue = uri && attributesNamed(uri, 'id')[0]?.value;
  const id = idValue === undefined ? 'KEY_ID' : percentDecode(idValue).toString('hex');
  return (
    `${where}: the token holds the private key but no public-key object for it, so OpenSSL cannot compare ` +
    `it with the certificate (the public half of an EC key is read from a public-key object with the same id). Add it from ` +
    `the certificate, with the key's id (pkcs11-tool --list-objects shows it): ` +
    `\`openssl x509 -in ${certFile} -pubkey -noout > pubkey.pem && pkcs11-tool --module MODULE.so ` +
    `--token-label ${token} --login --write-object pubkey.pem --type pubkey --id ${id}` +
    `${object ? ` --label ${object}` : ''}\``
  );
}

function firstLine(text: string): string {
  return (text.split(' | ')[0] ?? '').replace(/^error:[0-9A-F]+:/, '');
}
