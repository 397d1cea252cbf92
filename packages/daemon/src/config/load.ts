import { readFileSync, statSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import { parse, TomlError } from 'smol-toml';
import { ConfigError } from '../errors/daemon-errors.js';
import { type Config, readConfig } from './config.js';
import { CONFIG_DEFAULTS } from './defaults.js';

export interface LoadedConfig {
  readonly config: Config;
  /** Things worth telling the operator that do not stop the daemon. */
  readonly warnings: readonly string[];
}

/** Where the config file is: `--config`, then `NERVES_HUB_LINK_CONFIG`, then the default path. */
export function configPath(flag: string | undefined, env: NodeJS.ProcessEnv = process.env): string {
  return flag ?? (env.NERVES_HUB_LINK_CONFIG || CONFIG_DEFAULTS.configPath);
}

/** Reads, parses and validates the config file; throws one ConfigError that lists every problem. */
export function loadConfig(file: string): LoadedConfig {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') {
      throw new ConfigError('CONFIG_NOT_FOUND', file, [
        'no such file; write one (see the example config shipped with the daemon) or pass --config PATH',
      ]);
    }
    throw new ConfigError(
      'CONFIG_UNREADABLE',
      file,
      [`cannot be read (${code ?? 'error'}); check its permissions`],
      {
        cause: error,
      },
    );
  }
  return parseConfig(text, file);
}

/** Validates config text; `file` names it in messages and anchors relative paths. */
export function parseConfig(text: string, file: string): LoadedConfig {
  let document: Record<string, unknown>;
  try {
    document = parse(text) as Record<string, unknown>;
  } catch (error) {
    if (error instanceof TomlError) {
      const first = error.message.split('\n')[0]?.replace(/^Invalid TOML document: /, '') ?? 'invalid TOML';
      throw new ConfigError('CONFIG_SYNTAX', file, [`line ${error.line}, column ${error.column}: ${first}`], {
        cause: error,
      });
    }
    throw error;
  }
  const problems: string[] = [];
  const config = resolvePaths(readConfig(document, file, problems), dirname(resolve(file)));
  if (problems.length > 0) throw new ConfigError('CONFIG_INVALID', file, problems);
  return { config, warnings: secretWarnings(config) };
}

/** Paths in the file are relative to the file's own folder, so a config and its certificates travel together. */
function resolvePaths(config: Config, base: string): Config {
  const at = (path: string | undefined) =>
    path === undefined || isAbsolute(path) ? path : resolve(base, path);
  const auth =
    config.auth.method === 'mtls'
      ? { ...config.auth, certFile: at(config.auth.certFile)! }
      : { ...config.auth };
  for (const key of ['keyFile', 'caFile', 'secretFile'] as const) {
    if (key in auth)
      (auth as Record<string, unknown>)[key] = at(
        (auth as Record<string, unknown>)[key] as string | undefined,
      );
  }
  const metadata = config.metadata.file
    ? { ...config.metadata, file: at(config.metadata.file)! }
    : config.metadata;
  return { ...config, dataDir: at(config.dataDir)!, auth: auth as Config['auth'], metadata };
}

function secretWarnings(config: Config): string[] {
  const warnings: string[] = [];
  const exposed = (path: string) => {
    try {
      return (statSync(path).mode & 0o077) !== 0;
    } catch {
      return false;
    }
  };
  if (config.auth.method === 'shared_secret' && config.auth.secret !== undefined && exposed(config.file)) {
    warnings.push(`${config.file} holds auth.secret and is readable by other users; run chmod 600 on it`);
  }
  if (config.auth.method === 'shared_secret' && config.auth.secretFile && exposed(config.auth.secretFile)) {
    warnings.push(
      `${config.auth.secretFile} (auth.secret_file) is readable by other users; run chmod 600 on it`,
    );
  }
  if (config.auth.method === 'mtls' && config.auth.keyFile && exposed(config.auth.keyFile)) {
    warnings.push(`${config.auth.keyFile} (auth.key_file) is readable by other users; run chmod 600 on it`);
  }
  // The parsed value, not the text: the shipped example mentions `pin-value=` in a comment.
  const keyId = config.auth.method === 'mtls' ? config.auth.keyId : undefined;
  if (keyId !== undefined && /(?:^|[:;?&])pin-value=/i.test(keyId) && exposed(config.file)) {
    warnings.push(
      `${config.file} holds a PKCS#11 PIN (auth.key_id pin-value) and is readable by other users; run chmod 600 on it`,
    );
  }
  return warnings;
}
