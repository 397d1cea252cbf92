/**
 * The configuration file, checked: the top-level keys here, each table by its reader in sections/. A rule that
 * ties two keys together sits in the reader of the key it reports (`identity` needs `auth`, `updates` needs
 * `hooks`; `uri` and `download.allow_http` below), so problems come in the order of the file's tables.
 */
import { CONFIG_DEFAULTS } from './defaults.js';
import { type AuthConfig, readAuth } from './sections/auth.js';
import { type CommandsConfig, readCommands } from './sections/commands.js';
import { type DownloadConfig, readDownload } from './sections/download.js';
import { type FwupConfig, readFwup } from './sections/fwup.js';
import { type HooksConfig, readHooks } from './sections/hooks.js';
import { type IdentitySource, readIdentity } from './sections/identity.js';
import { type MetadataConfig, readMetadata } from './sections/metadata.js';
import { type NetworkConfig, readNetwork } from './sections/network.js';
import { readUpdates, type UpdatesConfig } from './sections/updates.js';
import { readValidation, type ValidationConfig } from './sections/validation.js';
import { type Table, TableReader } from './table-reader.js';

export interface Config {
  /** Where the configuration was read from, for messages. */
  readonly file: string;
  readonly uri: string;
  readonly dataDir: string;
  readonly identity: IdentitySource;
  readonly auth: AuthConfig;
  readonly tlsVersion: 'TLSv1.2' | 'TLSv1.3' | 'any';
  readonly fwup: FwupConfig;
  readonly metadata: MetadataConfig;
  readonly commands: CommandsConfig;
  readonly download: DownloadConfig;
  /** Proxy settings; the environment's HTTPS_PROXY/HTTP_PROXY/NO_PROXY apply where these are absent. */
  readonly network: NetworkConfig;
  readonly heartbeatIntervalMs: number;
  /** Operator hooks: programs the daemon asks or tells at each step of an update. */
  readonly hooks: HooksConfig;
  /** When updates may start, and how the device reboots into one. */
  readonly updates: UpdatesConfig;
  /** How an updated firmware is committed or rolled back after the reboot. */
  readonly validation: ValidationConfig;
}

/** Checks a parsed TOML document. Every problem found is pushed to `problems`; the result is valid only if none. */
export function readConfig(document: Table, file: string, problems: string[]): Config {
  return readTop(new TableReader(document, '', problems), file);
}

/** Every key the readers ask for in `document`, as messages name them (`auth.cert_file`). */
export function keysRead(document: Table): string[] {
  const top = new TableReader(document, '', []);
  readTop(top, '');
  return top.keysRead();
}

function readTop(top: TableReader, file: string): Config {
  const uri = readUri(top);
  const dataDir =
    top.string('data_dir', 'a directory path for downloads and state') ?? CONFIG_DEFAULTS.dataDir;
  const tlsVersion =
    top.oneOf('tls_version', ['TLSv1.2', 'TLSv1.3', 'any'] as const, CONFIG_DEFAULTS.tlsVersion) ??
    CONFIG_DEFAULTS.tlsVersion;
  const heartbeatIntervalMs = top.integer(
    'heartbeat_interval_ms',
    CONFIG_DEFAULTS.heartbeatIntervalMs,
    1000,
    170_000,
    'milliseconds (the server closes a socket that is silent for 180 s)',
  );
  const auth = readAuth(top.section('auth', { required: true }));
  const identity = readIdentity(top.section('identity'), auth);
  const fwup = readFwup(top.section('fwup'));
  const metadata = readMetadata(top.section('metadata'));
  const commands = readCommands(top.section('commands'));
  const download = readDownload(top.section('download'));
  const network = readNetwork(top.section('network'));
  const hooks = readHooks(top.section('hooks'));
  const updates = readUpdates(top.section('updates'), hooks);
  const validation = readValidation(top.section('validation'));
  if (uri.startsWith('ws://') && !download.allowHttp) {
    // TLS is the only thing protecting the device's session; plain ws:// must be asked for explicitly.
    top.problem(
      'uri',
      'ws:// is not encrypted; use wss://, or set download.allow_http = true for local testing only',
    );
  }
  top.rejectUnknown();
  return {
    file,
    uri,
    dataDir,
    identity,
    auth,
    tlsVersion,
    fwup,
    metadata,
    commands,
    download,
    network,
    heartbeatIntervalMs,
    hooks,
    updates,
    validation,
  };
}

function readUri(top: TableReader): string {
  const value = top.requiredString(
    'uri',
    'the NervesHub device socket URL, e.g. "wss://devices.example.com/socket/websocket"',
  );
  if (value === undefined) return '';
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    top.problem(
      'uri',
      `${JSON.stringify(value)} is not a URL; expected e.g. "wss://devices.example.com/socket/websocket"`,
    );
    return value;
  }
  if (url.protocol !== 'wss:' && url.protocol !== 'ws:') {
    top.problem('uri', `expected a wss:// URL, got ${url.protocol}//`);
  }
  if (url.search) top.problem('uri', 'must not carry a query string; the client adds vsn=2.0.0 itself');
  return value;
}
