/**
 * The running firmware's metadata, as a fwup + U-Boot device keeps it: `key=value` lines from `fw_printenv`
 * (or a file), firmware keys under the active slot's prefix (`a.`/`b.`), validation flags
 * (nerves_runtime lib/nerves_runtime/kv.ex, lib/nerves_runtime.ex).
 */
import { readFile } from 'node:fs/promises';
import { runProcessGroup } from '@nerves-hub-link/process-group';
import { FirmwareError } from '../errors.js';
import { describeCommandFailure } from './command-failure.js';

/** Without these the server never offers an update (nerves_hub_web lib/nerves_hub/device_link.ex). */
export const REQUIRED_FIRMWARE_KEYS = [
  'nerves_fw_uuid',
  'nerves_fw_product',
  'nerves_fw_architecture',
  'nerves_fw_platform',
  'nerves_fw_version',
] as const;

/** Far more than any U-Boot environment: a command that prints more fails instead of filling memory. */
const METADATA_MAX_OUTPUT_BYTES = 4 * 1024 * 1024;

export interface ReadFirmwareMetadataOptions {
  /** argv of the command that prints the environment. @default ['fw_printenv'] (when no `file`) */
  readonly command?: readonly string[];
  /** A file of `key=value` lines instead of a command. */
  readonly file?: string;
  /** Values that override what was read (keys without slot prefix, e.g. `nerves_fw_version`). */
  readonly values?: Readonly<Record<string, string>>;
  /** The command (and every process it started) is stopped after this long. @default 10000 */
  readonly timeoutMs?: number;
  /** The command's whole environment. @default process.env */
  readonly env?: NodeJS.ProcessEnv;
}

export interface FirmwareMetadata {
  /** Every key of the active slot with its prefix removed, then the overrides: the join parameters. */
  readonly params: Readonly<Record<string, string>>;
  readonly activeSlot: string;
  /** true / false, or undefined when nothing says (the server treats that as validated). */
  readonly firmwareValidated: boolean | undefined;
  /** The bootloader fell back from a new image that never validated. */
  readonly autoRevertDetected: boolean;
  /** `nerves_fw_devpath`: where fwup writes. */
  readonly devpath: string | undefined;
  /** The whole environment as read. */
  readonly env: Readonly<Record<string, string>>;
}

export async function readFirmwareMetadata(
  options: ReadFirmwareMetadataOptions = {},
): Promise<FirmwareMetadata> {
  const { text, source } = await readSource(options);
  return interpretEnvironment(parseEnvironment(text), options.values ?? {}, source);
}

/** `name=value` per line, split on the first `=`; other lines are ignored. */
export function parseEnvironment(text: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const line of text.split(/\r?\n/)) {
    const at = line.indexOf('=');
    if (at <= 0) continue;
    env[line.slice(0, at).trim()] = line.slice(at + 1);
  }
  return env;
}

export function interpretEnvironment(
  env: Record<string, string>,
  overrides: Readonly<Record<string, string>>,
  source: string,
): FirmwareMetadata {
  const activeSlot = env.nerves_fw_active === 'b' ? 'b' : 'a';
  const inactiveSlot = activeSlot === 'a' ? 'b' : 'a';
  const params: Record<string, string> = {};
  for (const [key, value] of Object.entries(env)) {
    if (key.startsWith(`${activeSlot}.`)) params[key.slice(2)] = value;
  }
  Object.assign(params, overrides);
  const missing = REQUIRED_FIRMWARE_KEYS.filter((key) => !params[key]);
  if (missing.length > 0) {
    throw new FirmwareError(
      'FW_METADATA_INCOMPLETE',
      `firmware metadata from ${source} lacks ${missing.join(', ')} (looked for "${activeSlot}.<key>" since ` +
        `nerves_fw_active is "${env.nerves_fw_active ?? 'unset'}"); set them in [metadata.values] or fix the environment`,
    );
  }
  return {
    params,
    activeSlot,
    firmwareValidated: validation(env, activeSlot),
    autoRevertDetected:
      env[`${inactiveSlot}.nerves_fw_validated`] === '0' &&
      Boolean(env[`${inactiveSlot}.nerves_fw_platform`]) &&
      Boolean(env[`${inactiveSlot}.nerves_fw_architecture`]),
    devpath: overrides.nerves_fw_devpath ?? env.nerves_fw_devpath,
    env,
  };
}

/** U-Boot `upgrade_available` first, then the slot's or the global `nerves_fw_validated` (PROTOCOL.md §11). */
function validation(env: Record<string, string>, slot: string): boolean | undefined {
  if (env.upgrade_available === '0') return true;
  if (env.upgrade_available === '1') return false;
  const flag = env[`${slot}.nerves_fw_validated`] ?? env.nerves_fw_validated;
  if (flag === '1') return true;
  if (flag === '0') return false;
  return undefined;
}

async function readSource(options: ReadFirmwareMetadataOptions): Promise<{ text: string; source: string }> {
  if (options.file !== undefined) {
    try {
      return { text: await readFile(options.file, 'utf8'), source: options.file };
    } catch (cause) {
      throw new FirmwareError(
        'FW_METADATA_UNAVAILABLE',
        `cannot read firmware metadata from ${options.file}: ${(cause as Error).message}`,
        { cause },
      );
    }
  }
  const [file, ...args] = options.command ?? ['fw_printenv'];
  const label = [file, ...args].join(' ');
  try {
    // In a process group of its own: at the timeout the script's children are stopped with it, instead of
    // piling up at every poll.
    const { stdout } = await runProcessGroup([file!, ...args], {
      timeoutMs: options.timeoutMs ?? 10_000,
      maxOutputBytes: METADATA_MAX_OUTPUT_BYTES,
      failOnExcessOutput: true,
      ...(options.env ? { env: options.env } : {}),
    });
    return { text: stdout.text, source: `"${label}"` };
  } catch (cause) {
    const missing = (cause as { code?: unknown }).code === 'PROC_NOT_FOUND';
    throw new FirmwareError(
      'FW_METADATA_UNAVAILABLE',
      missing
        ? `"${file}" not found: install it (u-boot-tools) or set metadata.command, metadata.file or [metadata.values]`
        : `"${label}" failed: ${describeCommandFailure(cause)}`,
      { cause },
    );
  }
}
