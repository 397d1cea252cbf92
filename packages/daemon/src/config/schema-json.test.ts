// schema.json, the JSON Schema editors check the config file with (Taplo's `#:schema`, VS Code's Even Better
// TOML), against the reader itself: the same keys and the same defaults, so the two cannot drift apart.
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { keysRead, readConfig } from './config.js';
import { CONFIG_DEFAULTS } from './defaults.js';
import type { Table } from './table-reader.js';
import { parseDuration } from './values/duration.js';

interface SchemaNode {
  readonly type?: string;
  readonly properties?: Record<string, SchemaNode>;
  readonly default?: unknown;
}

const schemaUrl = new URL('../../schema.json', import.meta.url);
const schema = JSON.parse(readFileSync(schemaUrl, 'utf8')) as SchemaNode;

/** Every key the schema describes (tables too), as messages name them, with its schema. */
function schemaKeys(node: SchemaNode, prefix = ''): Map<string, SchemaNode> {
  const keys = new Map<string, SchemaNode>();
  for (const [name, child] of Object.entries(node.properties ?? {})) {
    const key = `${prefix}${name}`;
    keys.set(key, child);
    for (const [nested, value] of schemaKeys(child, `${key}.`)) keys.set(nested, value);
  }
  return keys;
}

const MTLS: Table = {
  uri: 'wss://devices.example.com/socket/websocket',
  auth: { method: 'mtls', cert_file: '/etc/nhl/cert.pem', key_file: '/etc/nhl/key.pem' },
};
const SHARED_SECRET: Table = {
  uri: 'wss://devices.example.com/device-socket/websocket',
  identity: { serial: 'device-1' },
  auth: { method: 'shared_secret', key: 'nhp_key', secret: 'not-a-real-secret' },
};

/** `document` with `key` (dotted) set to `value`. */
function withKey(document: Table, key: string, value: unknown): Table {
  const copy = structuredClone(document);
  const path = key.split('.');
  let table = copy;
  for (const name of path.slice(0, -1)) {
    table[name] ??= {};
    table = table[name] as Table;
  }
  table[path.at(-1)!] = value;
  return copy;
}

/** The TOML key whose default each entry of CONFIG_DEFAULTS is; undefined for those that are no key's. */
const KEY_OF_DEFAULT: Record<keyof typeof CONFIG_DEFAULTS, string | undefined> = {
  configPath: undefined, // where the file is, not what it says
  dataDir: 'data_dir',
  identityCommandTimeoutMs: 'identity.serial_command_timeout_ms',
  fwupPath: 'fwup.path',
  fwupTask: 'fwup.task',
  fwupPublicKeys: 'fwup.public_keys',
  fwupAllowUnsigned: 'fwup.allow_unsigned',
  fwupExtraOptions: 'fwup.extra_options',
  fwupNoUnmount: 'fwup.no_unmount',
  fwupTimeoutMs: 'fwup.timeout_ms',
  metadataCommand: undefined, // used only without command and file when [metadata.values] is not complete
  rebootCommand: 'commands.reboot',
  commandTimeoutMs: 'commands.timeout_ms',
  downloadAllowHttp: 'download.allow_http',
  downloadMaxAttempts: 'download.max_attempts',
  downloadIdleTimeoutMs: 'download.idle_timeout_ms',
  heartbeatIntervalMs: 'heartbeat_interval_ms',
  hookTimeoutMs: 'hooks.timeout_ms',
  hookOnHookFailure: 'hooks.on_hook_failure',
  hookOnBeforeHookFailure: 'hooks.on_before_hook_failure',
  hookRescheduleDelayMs: 'hooks.reschedule_delay',
  hookBeforeRebootMaxFailures: 'hooks.before_reboot_max_failures',
  updateWindows: 'updates.window',
  windowSpreadMs: 'updates.window_spread',
  rebootPolicy: 'updates.reboot_policy',
  validationWhen: 'validation.when',
  tlsVersion: 'tls_version',
  deviceApiVersion: undefined, // reported in the join, not configured
};

describe('schema.json', () => {
  const keys = schemaKeys(schema);

  it('describes every key the reader reads, and no other', () => {
    const read = new Set([...keysRead(MTLS), ...keysRead(SHARED_SECRET)]);
    expect([...keys.keys()].sort()).toEqual([...read].sort());
  });

  it('gives as a default what the reader does when the key is absent', () => {
    const withDefaults = [...keys].filter(([, node]) => 'default' in node);
    expect(withDefaults.length).toBeGreaterThan(0);
    const absent = readConfig(MTLS, 'config.toml', []);
    for (const [key, node] of withDefaults) {
      const problems: string[] = [];
      const written = readConfig(withKey(MTLS, key, node.default), 'config.toml', problems);
      expect(problems, key).toEqual([]);
      expect(written, key).toEqual(absent);
    }
  });

  it('gives the defaults of config/defaults.ts, each for its key', () => {
    const mapped = Object.entries(KEY_OF_DEFAULT).filter(
      (entry): entry is [keyof typeof CONFIG_DEFAULTS, string] => entry[1] !== undefined,
    );
    const withDefaults = [...keys].filter(([, node]) => 'default' in node).map(([key]) => key);
    expect(mapped.map(([, key]) => key).sort()).toEqual(withDefaults.sort());
    for (const [name, key] of mapped) {
      const value = keys.get(key)!.default;
      const asRead =
        typeof value === 'string' && typeof CONFIG_DEFAULTS[name] === 'number' ? parseDuration(value) : value;
      expect(asRead, key).toEqual(CONFIG_DEFAULTS[name]);
    }
  });

  it('is named by the example config, which ships beside it', () => {
    const example = new URL('../../examples/config.toml', import.meta.url);
    const directive = /^#:schema (\S+)$/m.exec(readFileSync(example, 'utf8'));
    expect(directive?.index).toBe(0);
    expect(fileURLToPath(new URL(directive![1]!, example))).toBe(fileURLToPath(schemaUrl));
    expect(existsSync(schemaUrl)).toBe(true);
    const manifest = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8'));
    expect(manifest.files).toContain('schema.json');
    expect(manifest.exports['./schema.json']).toBe('./schema.json');
  });
});
