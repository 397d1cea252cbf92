/**
 * Start-up failures caused by what the config names (a certificate that cannot be read, a key that does not match,
 * a wrong PIN, a missing fwup): each message names the config key, and the daemon exits 78 (EX_CONFIG), which
 * systemd does not restart, instead of 1, which it restarts every few seconds for nothing (or, with a wrong PIN,
 * until the token locks itself).
 */

import type { Config } from '../config/schema.js';
import { ExitError } from '../errors/daemon-errors.js';
import { EXIT } from '../errors/exit-codes.js';

/** Error codes of the auth and firmware packages that a restart cannot fix: the config has to change. */
const CONFIG_CAUSED = new Set([
  'AUTH_INVALID_ARGUMENT',
  'AUTH_FILE_UNREADABLE',
  'AUTH_CERT_INVALID',
  'AUTH_CA_INVALID',
  'AUTH_KEY_INVALID',
  'AUTH_KEY_MISMATCH',
  'AUTH_ENGINE_NOT_FOUND',
  'AUTH_PIN_INCORRECT',
  'AUTH_PIN_REQUIRED',
  'AUTH_PIN_LOCKED',
  'AUTH_KEY_NOT_FOUND',
  'AUTH_TOKEN_PUBLIC_KEY_MISSING',
  'AUTH_SECRET_UNREADABLE',
  'AUTH_SECRET_EMPTY',
  'AUTH_IDENTIFIER_COMMAND_NOT_FOUND',
  'AUTH_IDENTIFIER_NO_CN',
  'FW_FWUP_NOT_FOUND',
  'FW_METADATA_INCOMPLETE',
  'CONFIG_INVALID',
]);

/** The auth package names its options as its API does; the operator knows them as config keys. */
const CONFIG_KEYS: Readonly<Record<string, string>> = {
  certFile: 'auth.cert_file',
  keyFile: 'auth.key_file',
  caFile: 'auth.ca_file',
  keyEngine: 'auth.key_engine',
  keyId: 'auth.key_id',
  tlsVersion: 'tls_version',
};

const INTERNAL_NAME = new RegExp(`\\b(${Object.keys(CONFIG_KEYS).join('|')})\\b`, 'g');

/**
 * The error as the operator should see it: an ExitError (78) naming the config key when the config caused it;
 * undefined for anything a restart may cure (a network, a token that is not ready yet, a failing command).
 */
export function asConfigProblem(error: unknown, config: Config): ExitError | undefined {
  const code = String((error as { code?: unknown } | null)?.code ?? '');
  const fromMetadataFile = code === 'FW_METADATA_UNAVAILABLE' && config.metadata.file !== undefined;
  if (!CONFIG_CAUSED.has(code) && !fromMetadataFile) return undefined;
  let message = ((error as Error).message ?? String(error)).replace(
    INTERNAL_NAME,
    (name) => CONFIG_KEYS[name]!,
  );
  for (const [path, key] of configuredFiles(config)) {
    if (!message.includes(`(${key})`)) message = nameAfterPath(message, path, key);
  }
  return new ExitError(EXIT.config, `${message} (config file ${config.file})`, {
    cause: error,
    code: 'CONFIG_INVALID',
  });
}

/** Files the config names, with their keys. */
function configuredFiles(config: Config): [string, string][] {
  const { auth } = config;
  const files: [string | undefined, string][] =
    auth.method === 'mtls'
      ? [
          [auth.certFile, 'auth.cert_file'],
          [auth.keyFile, 'auth.key_file'],
        ]
      : [[auth.secretFile, 'auth.secret_file']];
  files.push([auth.caFile, 'auth.ca_file'], [config.metadata.file, 'metadata.file']);
  return files.filter((entry): entry is [string, string] => entry[0] !== undefined);
}

/**
 * `path (key)` at the first mention of the path as a whole (/etc/cert.pem is not in /etc/cert.pem.bak), unless
 * that mention is inside a `command` to copy.
 */
function nameAfterPath(message: string, path: string, key: string): string {
  const match = new RegExp(`${escapeRegExp(path)}(?![\\w./-])`).exec(message);
  if (!match) return message;
  const end = match.index + path.length;
  if ((message.slice(0, match.index).match(/`/g)?.length ?? 0) % 2 === 1) return message;
  return `${message.slice(0, end)} (${key})${message.slice(end)}`;
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
