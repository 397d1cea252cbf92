/**
 * Start-up failures caused by what the config names (a certificate that cannot be read, a key that does not match,
 * a wrong PIN, a missing fwup): each message names the config key, and the daemon exits 78 (EX_CONFIG), which
 * systemd does not restart, instead of 1, which it restarts every few seconds for nothing (or, with a wrong PIN,
 * until the token locks itself).
 */
import type { AuthErrorCode, AuthOption } from '@nerves-hub-link/auth';
import type { FirmwareErrorCode } from '@nerves-hub-link/firmware';
import type { Config } from '../config/config.js';
import { ConfigError, type DaemonErrorCode, ExitError } from '../errors/daemon-errors.js';
import { EXIT } from '../errors/exit-codes.js';

type ErrorCode = AuthErrorCode | FirmwareErrorCode | DaemonErrorCode;

/** Error codes of the auth, firmware and daemon packages that a restart cannot fix: the config has to change. */
const CONFIG_CAUSED: ReadonlySet<ErrorCode> = new Set<ErrorCode>([
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

/**
 * Caused by the config when the metadata comes from a file it names, or from a command that is not there (a
 * command that exists and fails may work later).
 */
const METADATA_UNAVAILABLE: ErrorCode = 'FW_METADATA_UNAVAILABLE';

/** What the config names, for the errors whose message does not say the key (a program that is not there). */
const KEY_OF_CODE: Readonly<Partial<Record<ErrorCode, (config: Config) => string>>> = {
  AUTH_IDENTIFIER_COMMAND_NOT_FOUND: () => 'identity.serial_command',
  FW_METADATA_UNAVAILABLE: () => 'metadata.command',
  FW_FWUP_NOT_FOUND: () => 'fwup.path',
};

/**
 * The inputs of the auth package the daemon fills from the config, with their config keys. An auth error names
 * its input in `option`, and in its message as the API calls it ("cert.pem (certFile)", "tlsVersion: expected
 * …"): that name becomes the config key the operator knows.
 */
const CONFIG_KEYS: Readonly<Partial<Record<AuthOption, string>>> = {
  certFile: 'auth.cert_file',
  keyFile: 'auth.key_file',
  caFile: 'auth.ca_file',
  keyEngine: 'auth.key_engine',
  keyId: 'auth.key_id',
  tlsVersion: 'tls_version',
};

/**
 * The error as the operator should see it: an ExitError (78) naming the config key when the config caused it;
 * undefined for anything a restart may cure (a network, a token that is not ready yet, a failing command).
 */
export function asConfigProblem(error: unknown, config: Config): ExitError | undefined {
  if (error instanceof ConfigError) {
    // Found while preparing the device: said like every other start-up problem, the config file last.
    return new ExitError(EXIT.config, `${error.problems.join('; ')} (config file ${error.file})`, {
      cause: error,
      code: error.code,
    });
  }
  const code = (error as { code?: unknown } | null)?.code;
  const fromMetadataFile = code === METADATA_UNAVAILABLE && config.metadata.file !== undefined;
  const programMissing =
    code === METADATA_UNAVAILABLE &&
    ((error as { cause?: { code?: unknown } }).cause?.code ?? undefined) === 'PROC_NOT_FOUND';
  if (!isConfigCaused(code) && !fromMetadataFile && !programMissing) return undefined;
  let message = withConfigKey(
    (error as Error).message ?? String(error),
    (error as { option?: unknown }).option,
  );
  const key = !fromMetadataFile ? KEY_OF_CODE[code as ErrorCode]?.(config) : undefined;
  if (key && !message.includes(key)) message = `${key}: ${message}`;
  for (const [path, key] of configuredFiles(config)) {
    if (!message.includes(`(${key})`)) message = nameAfterPath(message, path, key);
  }
  return new ExitError(EXIT.config, `${message} (config file ${config.file})`, {
    cause: error,
    code: 'CONFIG_INVALID',
  });
}

/** The message with the API's name of the error's `option` replaced by its config key. */
function withConfigKey(message: string, option: unknown): string {
  if (typeof option !== 'string' || !Object.hasOwn(CONFIG_KEYS, option)) return message;
  const key = CONFIG_KEYS[option as AuthOption]!;
  return message.replace(`(${option})`, `(${key})`).replace(new RegExp(`^${option}: `), `${key}: `);
}

function isConfigCaused(code: unknown): boolean {
  return typeof code === 'string' && (CONFIG_CAUSED as ReadonlySet<string>).has(code);
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
 * that mention is inside a `command` to copy. The auth and firmware errors carry the path only in their message.
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
