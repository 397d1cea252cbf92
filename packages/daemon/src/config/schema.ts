import { pinProblem } from '@nerves-hub-link/auth';
import { MIN_RATE_BYTES_PER_SECOND } from '@nerves-hub-link/firmware';
import { CONFIG_DEFAULTS } from './defaults.js';
import { describe, type Table, TableReader } from './table-reader.js';
import { formatByteRate, parseByteRate } from './values/byte-rate.js';
import { formatDuration, parseDuration } from './values/duration.js';
import { checkTimeZone, type MaintenanceWindow, parseWindow } from './values/maintenance-window.js';
import { checkProxyUrl, parseNoProxyEntry } from './values/proxy.js';

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

export type IdentitySource =
  | { readonly kind: 'command'; readonly command: readonly string[]; readonly timeoutMs: number }
  | { readonly kind: 'value'; readonly value: string }
  | { readonly kind: 'certificate' };

export interface Config {
  /** Where the configuration was read from, for messages. */
  readonly file: string;
  readonly uri: string;
  readonly dataDir: string;
  readonly identity: IdentitySource;
  readonly auth: AuthConfig;
  readonly tlsVersion: 'TLSv1.2' | 'TLSv1.3' | 'any';
  readonly fwup: {
    readonly path: string;
    /** Absent: taken from `nerves_fw_devpath` in the firmware metadata. */
    readonly devpath?: string;
    readonly task: string;
    readonly publicKeys: readonly string[];
    /** Apply firmware even with no key to check its signature with (development boards only). */
    readonly allowUnsigned: boolean;
    /** More options for `fwup -a`, e.g. `--unsafe` (nerves_hub_link fwup_config.ex fwup_extra_options). */
    readonly extraOptions: readonly string[];
    /** Extra environment variables for fwup (nerves_hub_link fwup_config.ex fwup_env). */
    readonly env: Readonly<Record<string, string>>;
    /** Pass `-U` so fwup does not unmount the disk the system runs from. */
    readonly noUnmount: boolean;
    readonly timeoutMs: number;
  };
  readonly metadata: {
    readonly command?: readonly string[];
    readonly file?: string;
    readonly values: Readonly<Record<string, string>>;
  };
  readonly commands: {
    readonly reboot: readonly string[];
    readonly identify?: readonly string[];
    readonly timeoutMs: number;
  };
  readonly download: {
    readonly allowHttp: boolean;
    readonly maxAttempts: number;
    readonly idleTimeoutMs: number;
    /** `sha256/…` public-key pins of every firmware host (redirects included). */
    readonly pins?: readonly string[];
    /** Bandwidth cap of the firmware download. */
    readonly maxBytesPerSecond?: number;
  };
  /** Proxy settings; the environment's HTTPS_PROXY/HTTP_PROXY/NO_PROXY apply where these are absent. */
  readonly network: NetworkConfig;
  readonly heartbeatIntervalMs: number;
  /** Operator hooks: programs the daemon asks or tells at each step of an update. */
  readonly hooks: HooksConfig;
  /** When updates may start, and how the device reboots into one. */
  readonly updates: UpdatesConfig;
}

export interface NetworkConfig {
  /** `http://[user:password@]host:port`, or `""` for none (the environment's proxies are then ignored too). */
  readonly proxy?: string;
  readonly noProxy?: readonly string[];
}

export interface HooksConfig {
  readonly updateAvailable?: readonly string[];
  readonly beforeDownload?: readonly string[];
  readonly beforeApply?: readonly string[];
  readonly afterApply?: readonly string[];
  readonly onError?: readonly string[];
  readonly beforeReboot?: readonly string[];
  readonly timeoutMs: number;
  /** What a failed, hung or unreadable update_available (or before_reboot under the hook policy) means. */
  readonly onHookFailure: 'apply' | 'reschedule';
  /** What a failed before_download or before_apply does to the update. */
  readonly onBeforeHookFailure: 'fail' | 'reschedule';
  /** The delay of a reschedule that names none: exit 21, and the two failure policies above. */
  readonly rescheduleDelayMs: number;
}

export type RebootPolicy = 'immediate' | 'hook' | 'never';

export interface UpdatesConfig {
  /** Empty: any time. */
  readonly windows: readonly MaintenanceWindow[];
  /** IANA name; absent: the system's local time. */
  readonly timezone?: string;
  /** Up to this much random delay after a window opens, so a fleet does not start in the same second. */
  readonly windowSpreadMs: number;
  readonly rebootPolicy: RebootPolicy;
}

/** Checks a parsed TOML document. Every problem found is pushed to `problems`; the result is valid only if none. */
export function readConfig(document: Table, file: string, problems: string[]): Config {
  const top = new TableReader(document, '', problems);
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
  const auth = readAuth(section(top, 'auth', true, problems));
  const identity = readIdentity(section(top, 'identity', false, problems), auth);
  const fwup = readFwup(section(top, 'fwup', false, problems), problems);
  const metadata = readMetadata(section(top, 'metadata', false, problems), problems);
  const commands = readCommands(section(top, 'commands', false, problems));
  const download = readDownload(section(top, 'download', false, problems));
  const network = readNetwork(section(top, 'network', false, problems));
  const hooks = readHooks(section(top, 'hooks', false, problems));
  const updates = readUpdates(section(top, 'updates', false, problems), hooks);
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
  };
}

function section(top: TableReader, key: string, required: boolean, problems: string[]): TableReader {
  const table = top.table(key);
  if (!table && required && !top.has(key)) top.problem(key, `missing; add a [${key}] table`);
  return new TableReader(table ?? {}, key, problems);
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

function readAuth(auth: TableReader): AuthConfig {
  const method = auth.oneOf('method', ['mtls', 'shared_secret'] as const, undefined);
  const caFile = auth.string('ca_file', 'a path to extra trusted CA certificates (PEM)');
  const optional = <T extends object>(value: T): T =>
    Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
  if (method === 'shared_secret') {
    const key = auth.requiredString('key', 'the NervesHub key id, a product key "nhp_…" or a device key');
    const secret = auth.string('secret', 'the shared secret');
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
  const keyId = auth.string('key_id', 'the key identifier for the engine, e.g. "pkcs11:token=…;object=…"');
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

function readIdentity(identity: TableReader, auth: AuthConfig): IdentitySource {
  const command = identity.command('serial_command');
  const value = identity.string('serial', 'the device identifier as a literal string');
  const timeoutMs = identity.integer(
    'serial_command_timeout_ms',
    CONFIG_DEFAULTS.identityCommandTimeoutMs,
    100,
    600_000,
    'milliseconds',
  );
  identity.rejectUnknown();
  if (command && value !== undefined) {
    identity.problem('serial', 'set either serial or serial_command, not both');
  }
  if (command) return { kind: 'command', command, timeoutMs };
  if (value !== undefined) return { kind: 'value', value };
  if (auth.method === 'shared_secret' && !identity.has('serial_command') && !identity.has('serial')) {
    identity.problem(
      'serial_command',
      'missing; a shared-secret device needs its identifier: set serial_command = "…" or serial = "…" in [identity]',
    );
  }
  return { kind: 'certificate' };
}

function readFwup(fwup: TableReader, problems: string[]): Config['fwup'] {
  const publicKeys =
    fwup.stringArray('public_keys', 'an array of fwup public keys (base64, as in a .pub file)') ?? [];
  publicKeys.forEach((key, index) => {
    if (Buffer.from(key, 'base64').length !== 32 || !/^[A-Za-z0-9+/]{43}=$/.test(key.trim())) {
      fwup.problem(
        `public_keys[${index}]`,
        `expected a 44-character base64 Ed25519 key, got ${JSON.stringify(key)}`,
      );
    }
  });
  const devpath = fwup.string('devpath', 'the device to write, e.g. "/dev/mmcblk0"');
  const extraOptions =
    fwup.stringArray('extra_options', 'an array of fwup options for the apply, e.g. ["--unsafe"]') ?? [];
  const envTable = fwup.table('env');
  const env: Record<string, string> = {};
  if (envTable) {
    const reader = new TableReader(envTable, 'fwup.env', problems);
    for (const key of Object.keys(envTable)) {
      if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(key)) {
        reader.problem(key, 'expected an environment variable name (letters, digits and _)');
        reader.raw(key);
        continue;
      }
      const value = reader.raw(key);
      if (typeof value === 'string') env[key] = value;
      else reader.problem(key, `expected a string, got ${describe(value)}`);
    }
  }
  const result = {
    path:
      fwup.string('path', 'the fwup program, a name on PATH or an absolute path') ?? CONFIG_DEFAULTS.fwupPath,
    task: fwup.string('task', 'an fwup task name, e.g. "upgrade"') ?? CONFIG_DEFAULTS.fwupTask,
    publicKeys: publicKeys.map((key) => key.trim()),
    allowUnsigned: fwup.boolean('allow_unsigned', false),
    extraOptions,
    env,
    noUnmount: fwup.boolean('no_unmount', true),
    timeoutMs: fwup.integer('timeout_ms', CONFIG_DEFAULTS.fwupTimeoutMs, 1000, 24 * 3600_000, 'milliseconds'),
    ...(devpath !== undefined ? { devpath } : {}),
  };
  fwup.rejectUnknown();
  return result;
}

function readMetadata(metadata: TableReader, problems: string[]): Config['metadata'] {
  const command = metadata.command('command');
  const file = metadata.string('file', 'a path to a key=value file of firmware metadata');
  const valuesTable = metadata.table('values');
  const values: Record<string, string> = {};
  if (valuesTable) {
    const reader = new TableReader(valuesTable, 'metadata.values', problems);
    for (const key of Object.keys(valuesTable)) {
      const value = reader.string(key, 'a string');
      if (value !== undefined) values[key] = value;
    }
  }
  if (command && file !== undefined) metadata.problem('file', 'set either command or file, not both');
  metadata.rejectUnknown();
  if (file !== undefined) return { file, values };
  // No command and no file: fw_printenv, unless [metadata.values] alone holds every required key (see device-setup).
  return command ? { command, values } : { values };
}

function readCommands(commands: TableReader): Config['commands'] {
  const reboot = commands.command('reboot') ?? [...CONFIG_DEFAULTS.rebootCommand];
  // `identify = ""` (as in the example config) means: no identify command.
  const identify = commands.raw('identify') === '' ? undefined : commands.command('identify');
  const timeoutMs = commands.integer(
    'timeout_ms',
    CONFIG_DEFAULTS.commandTimeoutMs,
    100,
    600_000,
    'milliseconds',
  );
  commands.rejectUnknown();
  return identify ? { reboot, identify, timeoutMs } : { reboot, timeoutMs };
}

function readDownload(download: TableReader): Config['download'] {
  const pins = pinList(download, 'pins');
  const maxBytesPerSecond = byteRate(download, 'max_rate');
  const result = {
    ...(pins ? { pins } : {}),
    ...(maxBytesPerSecond !== undefined ? { maxBytesPerSecond } : {}),
    allowHttp: download.boolean('allow_http', false),
    maxAttempts: download.integer('max_attempts', CONFIG_DEFAULTS.downloadMaxAttempts, 1, 100, 'attempts'),
    idleTimeoutMs: download.integer(
      'idle_timeout_ms',
      CONFIG_DEFAULTS.downloadIdleTimeoutMs,
      1000,
      3600_000,
      'milliseconds',
    ),
  };
  download.rejectUnknown();
  return result;
}

/** `[network]`: the proxy of the device socket and the download (see link/proxy-route.ts). */
function readNetwork(network: TableReader): NetworkConfig {
  const raw = network.raw('proxy');
  let proxy: string | undefined;
  if (typeof raw === 'string' && raw.trim() === '') {
    proxy = '';
  } else if (raw !== undefined) {
    const checked = typeof raw === 'string' ? checkProxyUrl(raw, { schemeOptional: false }) : undefined;
    if (typeof raw === 'string' && checked && 'url' in checked) proxy = raw.trim();
    else {
      // Never echo the value: it may hold the proxy's password.
      network.problem(
        'proxy',
        (checked && 'problem' in checked ? checked.problem : undefined) ??
          'expected a string "http://[user:password@]host:port", or "" for no proxy (then the environment is ignored too)',
      );
    }
  }
  const listRaw = network.raw('no_proxy');
  let noProxy: string[] | undefined;
  if (listRaw !== undefined) {
    const entries =
      typeof listRaw === 'string'
        ? listRaw.split(/[\s,]+/).filter(Boolean)
        : Array.isArray(listRaw) && listRaw.every((entry) => typeof entry === 'string')
          ? (listRaw as string[])
          : undefined;
    if (!entries) {
      network.problem(
        'no_proxy',
        `expected an array of hosts such as ["localhost", ".example.com", "10.0.0.0/8"], got ${describe(listRaw)}`,
      );
    } else {
      entries.forEach((entry, index) => {
        const parsed = parseNoProxyEntry(entry);
        if ('problem' in parsed) network.problem(`no_proxy[${index}]`, parsed.problem);
      });
      noProxy = entries.map((entry) => entry.trim());
    }
  }
  network.rejectUnknown();
  return {
    ...(proxy !== undefined ? { proxy } : {}),
    ...(noProxy !== undefined ? { noProxy } : {}),
  };
}

/** An array of `sha256/…` public-key pins; undefined when absent or empty. */
function pinList(reader: TableReader, key: string): string[] | undefined {
  const pins = reader.stringArray(key, 'an array of pins such as ["sha256/AbC…="]');
  if (!pins) return undefined;
  pins.forEach((pin, index) => {
    const problem = pinProblem(pin);
    if (problem) reader.problem(`${key}[${index}]`, `${problem}, got ${describe(pin)}`);
  });
  return pins.length > 0 ? pins : undefined;
}

/** A rate written with its unit ("2 MiB/s", "500 KB/s"). */
function byteRate(reader: TableReader, key: string): number | undefined {
  const value = reader.raw(key);
  if (value === undefined) return undefined;
  const parsed =
    typeof value === 'string'
      ? parseByteRate(value)
      : { problem: 'expected a rate with its unit, such as "2 MiB/s" or "500 KB/s"' };
  if ('problem' in parsed) {
    reader.problem(key, `${parsed.problem}, got ${describe(value)}`);
    return undefined;
  }
  if (parsed.bytesPerSecond < MIN_RATE_BYTES_PER_SECOND) {
    reader.problem(
      key,
      `expected at least ${formatByteRate(MIN_RATE_BYTES_PER_SECOND)}, got ${describe(value)}`,
    );
    return undefined;
  }
  return parsed.bytesPerSecond;
}

function readHooks(hooks: TableReader): HooksConfig {
  // `name = ""` (as in the example config) means: no such hook.
  const command = (key: string) => (hooks.raw(key) === '' ? undefined : hooks.command(key));
  const commands = {
    updateAvailable: command('update_available'),
    beforeDownload: command('before_download'),
    beforeApply: command('before_apply'),
    afterApply: command('after_apply'),
    onError: command('on_error'),
    beforeReboot: command('before_reboot'),
  };
  const result = {
    ...(Object.fromEntries(Object.entries(commands).filter(([, value]) => value !== undefined)) as Partial<
      Record<keyof typeof commands, string[]>
    >),
    timeoutMs: hooks.integer('timeout_ms', CONFIG_DEFAULTS.hookTimeoutMs, 100, 3_600_000, 'milliseconds'),
    onHookFailure:
      hooks.oneOf('on_hook_failure', ['apply', 'reschedule'] as const, 'reschedule') ?? 'reschedule',
    onBeforeHookFailure:
      hooks.oneOf('on_before_hook_failure', ['fail', 'reschedule'] as const, 'fail') ?? 'fail',
    rescheduleDelayMs: duration(hooks, 'reschedule_delay', CONFIG_DEFAULTS.hookRescheduleDelayMs, {
      min: 1000,
      max: 7 * 86_400_000,
    }),
  };
  hooks.rejectUnknown();
  return result;
}

function readUpdates(updates: TableReader, hooks: HooksConfig): UpdatesConfig {
  const windows: MaintenanceWindow[] = [];
  const raw = updates.raw('window');
  const texts = typeof raw === 'string' ? [raw] : raw;
  if (texts !== undefined) {
    if (!Array.isArray(texts) || texts.some((text) => typeof text !== 'string')) {
      updates.problem(
        'window',
        `expected an array of windows such as ["Mon-Fri 02:00-05:00"], got ${describe(raw)}`,
      );
    } else {
      texts.forEach((text: string, index) => {
        const parsed = parseWindow(text);
        if (parsed.ok) windows.push(parsed.window);
        else updates.problem(`window[${index}]`, `${describe(text)}: ${parsed.problem}`);
      });
    }
  }
  const timezone = updates.string('timezone', 'an IANA time zone name such as "Europe/Berlin"');
  if (timezone !== undefined) {
    try {
      checkTimeZone(timezone);
    } catch {
      updates.problem(
        'timezone',
        `${describe(timezone)} is not a time zone known to Node's Intl; use an IANA name such as "Europe/Berlin" or "UTC"`,
      );
    }
  }
  const windowSpreadMs = duration(updates, 'window_spread', CONFIG_DEFAULTS.windowSpreadMs, {
    min: 0,
    max: 86_400_000,
  });
  const rebootPolicy =
    updates.oneOf('reboot_policy', ['immediate', 'hook', 'never'] as const, 'immediate') ?? 'immediate';
  if (rebootPolicy === 'hook' && !hooks.beforeReboot) {
    updates.problem('reboot_policy', '"hook" needs a hooks.before_reboot command to ask');
  }
  updates.rejectUnknown();
  return {
    windows,
    ...(timezone !== undefined ? { timezone } : {}),
    windowSpreadMs,
    rebootPolicy,
  };
}

/** A duration written as a string with a unit ("90s", "15m", "2h", "1h30m"). */
function duration(
  reader: TableReader,
  key: string,
  fallback: number,
  range: { readonly min: number; readonly max: number },
): number {
  const value = reader.raw(key);
  if (value === undefined) return fallback;
  const ms = typeof value === 'string' && /[a-z]$/i.test(value.trim()) ? parseDuration(value) : undefined;
  if (ms === undefined || ms < range.min || ms > range.max) {
    reader.problem(
      key,
      `expected a duration such as "30s", "15m" or "1h30m" from ${formatDuration(range.min)} to ${formatDuration(range.max)}, got ${describe(value)}`,
    );
    return fallback;
  }
  return ms;
}
