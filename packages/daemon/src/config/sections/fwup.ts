import { describeValue } from '@nerves-hub-link/message-text';
import { CONFIG_DEFAULTS } from '../defaults.js';
import type { TableReader } from '../table-reader.js';

export interface FwupConfig {
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
}

/** `[fwup]`: the program, the device it writes, the signing keys and how it is run. */
export function readFwup(fwup: TableReader): FwupConfig {
  const publicKeys = fwup.stringArray(
    'public_keys',
    'an array of fwup public keys (base64, as in a .pub file)',
  ) ?? [...CONFIG_DEFAULTS.fwupPublicKeys];
  publicKeys.forEach((key, index) => {
    if (Buffer.from(key, 'base64').length !== 32 || !/^[A-Za-z0-9+/]{43}=$/.test(key.trim())) {
      fwup.problem(
        `public_keys[${index}]`,
        `expected a 44-character base64 Ed25519 key, got ${describeValue(key)}`,
      );
    }
  });
  const devpath = fwup.string('devpath', 'the device to write, e.g. "/dev/mmcblk0"');
  const extraOptions = fwup.stringArray(
    'extra_options',
    'an array of fwup options for the apply, e.g. ["--unsafe"]',
  ) ?? [...CONFIG_DEFAULTS.fwupExtraOptions];
  const envTable = fwup.table('env');
  const env: Record<string, string> = {};
  if (envTable) {
    const reader = fwup.within('env', envTable);
    for (const key of Object.keys(envTable)) {
      if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(key)) {
        reader.problem(key, 'expected an environment variable name (letters, digits and _)');
        reader.raw(key);
        continue;
      }
      const value = reader.raw(key);
      if (typeof value === 'string') env[key] = value;
      // An environment variable may carry a credential: its value is never echoed.
      else reader.problem(key, `expected a string, got ${describeValue(value, { secret: true })}`);
    }
  }
  const result = {
    path:
      fwup.string('path', 'the fwup program, a name on PATH or an absolute path') ?? CONFIG_DEFAULTS.fwupPath,
    task: fwup.string('task', 'an fwup task name, e.g. "upgrade"') ?? CONFIG_DEFAULTS.fwupTask,
    publicKeys: publicKeys.map((key) => key.trim()),
    allowUnsigned: fwup.boolean('allow_unsigned', CONFIG_DEFAULTS.fwupAllowUnsigned),
    extraOptions,
    env,
    noUnmount: fwup.boolean('no_unmount', CONFIG_DEFAULTS.fwupNoUnmount),
    timeoutMs: fwup.integer('timeout_ms', CONFIG_DEFAULTS.fwupTimeoutMs, 1000, 24 * 3600_000, 'milliseconds'),
    ...(devpath !== undefined ? { devpath } : {}),
  };
  fwup.rejectUnknown();
  return result;
}
