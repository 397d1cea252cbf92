/** Wire strings and numeric defaults of this package. */

/** The only algorithm string we send: PBKDF2-HMAC-SHA256, 1000 iterations, 32-byte key. */
export const NH1_ALG = 'NH1-HMAC-sha256-1000-32';
export const NH1_ALG_PREFIX = 'NH1-HMAC-';
/** First line of the PBKDF2 salt; the salt then holds an empty line and the three signed header lines. */
export const NH1_SALT_CONTEXT = 'NH1:device-socket:shared-secret:connect';
/** base64url("HS256"): the protected header of every Plug.Crypto token. */
export const NH1_PROTECTED = 'SFMyNTY';
/** `max_age` that Plug.Crypto.sign embeds in the payload; the server ignores it and applies its own 90 s. */
export const NH1_EMBEDDED_MAX_AGE_SECONDS = 86_400;

export const HEADER_ALG = 'x-nh-alg';
export const HEADER_KEY = 'x-nh-key';
export const HEADER_TIME = 'x-nh-time';
export const HEADER_SIGNATURE = 'x-nh-signature';

/**
 * Seconds subtracted from the estimated server time before signing: keeps a synchronised clock out of the
 * future (newer servers reject future tokens) and costs nothing against the server's 90 s window.
 */
export const SIGNING_MARGIN_SECONDS = 1;

/** TLS version setting → `minVersion`/`maxVersion`. */
export const TLS_VERSIONS = {
  'TLSv1.2': { minVersion: 'TLSv1.2', maxVersion: 'TLSv1.2' },
  'TLSv1.3': { minVersion: 'TLSv1.3', maxVersion: 'TLSv1.3' },
  any: { minVersion: 'TLSv1.2', maxVersion: 'TLSv1.3' },
} as const;

/** Engine folders of OpenSSL 3 on common distributions; `{multiarch}` is filled from `process.arch`. */
export const ENGINE_DIR_CANDIDATES = [
  '/usr/lib/{multiarch}/engines-3',
  '/usr/lib/engines-3',
  '/usr/lib64/engines-3',
  '/usr/local/lib/engines-3',
  '/usr/local/lib64/engines-3',
] as const;

/** Debian multiarch triplets by `process.arch`. */
export const MULTIARCH: Readonly<Record<string, string>> = {
  x64: 'x86_64-linux-gnu',
  arm64: 'aarch64-linux-gnu',
  arm: 'arm-linux-gnueabihf',
  ia32: 'i386-linux-gnu',
  riscv64: 'riscv64-linux-gnu',
  ppc64: 'powerpc64le-linux-gnu',
  s390x: 's390x-linux-gnu',
  mips64el: 'mips64el-linux-gnuabi64',
};

export const ENV_OPENSSL_ENGINES = 'OPENSSL_ENGINES';

/**
 * Largest device certificate (with its chain) or private key file read: a chain of a few certificates is a
 * few KiB. Anything bigger is a wrong path, not a certificate.
 */
export const MAX_PEM_FILE_BYTES = 64 * 1024;
/** Largest CA file read: room for a distribution's whole bundle (Debian's is about 215 KiB). */
export const MAX_CA_FILE_BYTES = 1024 * 1024;
/** Largest shared secret file read: a NervesHub secret is under 100 characters. */
export const MAX_SECRET_FILE_BYTES = 4 * 1024;

/** Certificates closer than this to their end date produce a warning. */
export const DEFAULT_EXPIRY_WARNING_DAYS = 30;

/** Identifier command: longest run before it is stopped. */
export const DEFAULT_IDENTIFIER_TIMEOUT_MS = 10_000;
/** Identifier command: stdout beyond this is an error (an identifier is one short line). */
export const IDENTIFIER_MAX_OUTPUT_BYTES = 64 * 1024;
/** Longest identifier accepted. */
export const IDENTIFIER_MAX_LENGTH = 255;
