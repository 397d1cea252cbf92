/**
 * The nerves-hub-link device files for a device of this server: the config (`deviceConfig`) and the firmware
 * environment a U-Boot device would print (`firmwareEnvironment`). The CLI writes its devices with them, and so
 * do the daemon's tests, benchmarks and demo: one writer, so that all of them run the same daemon setup.
 */

export interface DeviceConfigInput {
  readonly uri: string;
  /** This device's own folder: its data dir and the disk image fwup writes go there. */
  readonly deviceDir: string;
  readonly identifier: string;
  readonly auth: MtlsAuth | SharedSecretAuth;
  readonly caFile: string;
  readonly fwupPath: string;
  /** The server sends signing keys on join; without any, the device must accept unsigned firmware. */
  readonly signingKeys: boolean;
  /** `fwup.public_keys`: keys the device holds itself, so it asks the server for none. */
  readonly publicKeys?: readonly string[];
  /**
   * `fwup.allow_unsigned = true`, with the warning above it.
   * @default true when no key comes from anywhere (no `signingKeys`, no `publicKeys`)
   */
  readonly allowUnsigned?: boolean;
  /**
   * `[metadata] file`: a firmware environment (see `firmwareEnvironment`) the daemon reads, and reads again,
   * like fw_printenv's output. @default fixed values of a firmware 1.0.0 (`[metadata.values]`)
   */
  readonly metadataFile?: string;
  /** `[metadata] command`: a program that prints the firmware environment (e.g. `fw_printenv -c FILE`). */
  readonly metadataCommand?: readonly string[];
  /**
   * `download.max_rate = "64 KiB/s"`, saying why: a download that takes a few seconds, so that a person trying it
   * by hand sees the live progress line. @default false
   */
  readonly slowDownload?: boolean;
  /**
   * More settings, merged into the config: top-level keys, and tables (a table inside a table is a sub-table,
   * `{ fwup: { env: {...} } }` is `[fwup.env]`). A key the writer sets itself is replaced.
   */
  readonly settings?: TomlTable;
}

export interface MtlsAuth {
  readonly method: 'mtls';
  readonly certFile: string;
  readonly keyFile: string;
}

export interface SharedSecretAuth {
  readonly method: 'shared_secret';
  /** A product key (`nhp_…`, the server trusts the identifier in the signature) or a device key (`nhd_…`). */
  readonly key: string;
  readonly secretFile: string;
}

export type TomlValue = string | number | boolean | readonly (string | number | boolean)[];

export interface TomlTable {
  readonly [key: string]: TomlValue | TomlTable;
}

/** One line of a table: a `key = value` setting, a comment, or a blank. */
interface Line {
  readonly key?: string;
  text: string;
}

/** The config, tables in the order a reader expects them, with a comment where a setting needs its why. */
export function deviceConfig(input: DeviceConfigInput): string {
  const allowUnsigned = input.allowUnsigned ?? (!input.signingKeys && (input.publicKeys ?? []).length === 0);
  const { auth } = input;
  const tables = new Map<string, Line[]>([
    ['', [setting('uri', input.uri), setting('data_dir', `${input.deviceDir}/data`)]],
    ['identity', [setting('serial', input.identifier)]],
    [
      'auth',
      [
        setting('method', auth.method),
        ...(auth.method === 'mtls'
          ? [setting('cert_file', auth.certFile), setting('key_file', auth.keyFile)]
          : [setting('key', auth.key), setting('secret_file', auth.secretFile)]),
        setting('ca_file', input.caFile),
      ],
    ],
    [
      'fwup',
      [
        setting('path', input.fwupPath),
        setting('devpath', `${input.deviceDir}/disk.img`),
        ...(input.publicKeys && input.publicKeys.length > 0
          ? [setting('public_keys', input.publicKeys)]
          : input.signingKeys
            ? [comment('Signing keys come from the server when the device joins (--public-key).')]
            : []),
        ...(allowUnsigned
          ? [
              comment(
                'For unsigned local firmware only: no --public-key was given, so the server has no signing key to send,',
              ),
              comment('and without a key the daemon refuses every update. Never set this on a real device.'),
              setting('allow_unsigned', true),
            ]
          : []),
      ],
    ],
  ]);
  if (input.metadataCommand !== undefined) {
    tables.set('metadata', [
      comment('The firmware this device runs, as this command prints it.'),
      setting('command', input.metadataCommand),
    ]);
  } else if (input.metadataFile === undefined) {
    tables.set('metadata.values', [
      comment(
        'The firmware this device runs. Nothing really reboots here, so every run reports 1.0.0 again.',
      ),
      setting('nerves_fw_uuid', '00000000-0000-4000-8000-000000000000'),
      setting('nerves_fw_product', 'demo'),
      setting('nerves_fw_version', '1.0.0'),
      setting('nerves_fw_platform', 'host'),
      setting('nerves_fw_architecture', 'x86_64'),
    ]);
  } else {
    tables.set('metadata', [
      comment('The firmware this device runs, as fw_printenv prints it.'),
      setting('file', input.metadataFile),
    ]);
  }
  tables.set('commands', [setting('reboot', ['echo', 'would reboot now'])]);
  if (input.slowDownload) {
    tables.set('download', [
      comment(
        'Slow enough that the download takes a few seconds (the example firmware is 257 KiB), so that the live',
      ),
      comment('progress line shows on a terminal. Remove it to download at full speed.'),
      setting('max_rate', '64 KiB/s'),
    ]);
  }
  merge(tables, '', input.settings ?? {});
  return render(tables);
}

export interface FirmwareEnvironmentInput {
  /** `nerves_fw_devpath`: the disk fwup writes. */
  readonly devpath: string;
  /** The uuid of the firmware in slot a, the active one. */
  readonly uuid: string;
  /** @default "demo" */
  readonly product?: string;
  /** @default "1.0.0" */
  readonly version?: string;
  /** `a.nerves_fw_validated`: whether the running firmware is validated. @default true */
  readonly validated?: boolean;
}

/** `fw_printenv` of a device that runs slot a: the running firmware's metadata, as `[metadata] file` reads it. */
export function firmwareEnvironment(input: FirmwareEnvironmentInput): string {
  return [
    'nerves_fw_active=a',
    `nerves_fw_devpath=${input.devpath}`,
    `a.nerves_fw_uuid=${input.uuid}`,
    `a.nerves_fw_product=${input.product ?? 'demo'}`,
    `a.nerves_fw_version=${input.version ?? '1.0.0'}`,
    'a.nerves_fw_platform=host',
    'a.nerves_fw_architecture=x86_64',
    `a.nerves_fw_validated=${input.validated === false ? 0 : 1}`,
    '',
  ].join('\n');
}

function setting(key: string, value: TomlValue): Line {
  return { key, text: `${key} = ${tomlValue(value)}` };
}

function comment(text: string): Line {
  return { text: `# ${text}` };
}

/** Puts `settings` into `tables` under the table named `prefix`: replacing a key already there, else adding it. */
function merge(tables: Map<string, Line[]>, prefix: string, settings: TomlTable): void {
  for (const [key, value] of Object.entries(settings)) {
    if (isTable(value)) {
      merge(tables, prefix === '' ? key : `${prefix}.${key}`, value);
      continue;
    }
    const lines = tables.get(prefix) ?? [];
    tables.set(prefix, lines);
    const line = setting(key, value);
    const existing = lines.find((each) => each.key === key);
    if (existing) existing.text = line.text;
    else lines.push(line);
  }
}

function render(tables: Map<string, Line[]>): string {
  const blocks = [...tables].map(([name, lines]) => {
    const body = lines.map((line) => line.text);
    return name === '' ? body : [`[${name}]`, ...body];
  });
  return `${blocks.map((block) => block.join('\n')).join('\n\n')}\n`;
}

function isTable(value: TomlValue | TomlTable): value is TomlTable {
  return typeof value === 'object' && !Array.isArray(value);
}

/** A TOML value: strings as basic strings (JSON's escapes are TOML's), arrays inline. */
function tomlValue(value: TomlValue): string {
  if (Array.isArray(value)) return `[${value.map((each) => tomlValue(each)).join(', ')}]`;
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new RangeError(`a TOML number must be finite, got ${value}`);
    return String(value);
  }
  return JSON.stringify(value);
}
