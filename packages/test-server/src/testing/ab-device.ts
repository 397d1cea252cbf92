/**
 * An A/B device for tests: a 2 MiB disk image laid out as the fwup-ab fixtures expect (U-Boot environment at byte
 * 0x2000, two root filesystem slots), flashed at the factory with `ab-v1.fw`'s `complete` task, and a boot step
 * that stands for the bootloader.
 *
 * The environment is read and written only with Debian's libubootenv-tool (`fw_printenv`, `fw_setenv`), the
 * same tools a device runs, so a test sees exactly what the device's software would.
 */
import { execFile } from 'node:child_process';
import { accessSync, constants, writeFileSync } from 'node:fs';
import { truncate } from 'node:fs/promises';
import { delimiter, join } from 'node:path';
import { promisify } from 'node:util';
import { fakeFwPrintenvPath, fakeFwSetenvPath, fakeFwupPath } from '../fake-fwup-path.js';
import { abFixtures } from '../fixtures/index.js';

const run = promisify(execFile);

const DISK_BYTES = 2 * 1024 * 1024;

export interface AbDevice {
  /** The disk image fwup writes (`-d`). */
  readonly disk: string;
  /** The fw_printenv this device is read with (`metadata.command = [printenv, "-c", envConfig]`). */
  readonly printenv: string;
  /** The `fw_env.config` of the disk: `fw_printenv -c <this>` reads the device's environment. */
  readonly envConfig: string;
  /** `fw_printenv -c envConfig`, parsed. */
  env(): Promise<Record<string, string>>;
  /** `fw_setenv -c envConfig` of each entry, in one write (`-s`). */
  setEnv(values: Readonly<Record<string, string>>): Promise<void>;
  /** A power-on: what U-Boot's boot counting does before the kernel starts (see `boot`). */
  boot(): Promise<BootOutcome>;
}

export interface BootOutcome {
  /** The slot the bootloader starts. */
  readonly slot: 'a' | 'b';
  /** `bootcount` after this boot. */
  readonly bootcount: number;
  /** True when this boot passed `bootlimit` and fell back to the other slot. */
  readonly fellBack: boolean;
}

/** Why the A/B device cannot be made here (libubootenv-tool missing), or undefined when it can. */
export function abDeviceUnavailable(): string | undefined {
  const missing = ['fw_printenv', 'fw_setenv'].filter((tool) => !findTool(tool));
  return missing.length > 0
    ? `${missing.join(' and ')} not installed (apt-get install libubootenv-tool)`
    : undefined;
}

export interface AbDeviceOptions {
  /** @default the fake fwup of this package */
  readonly fwupPath?: string;
  /**
   * `real`: Debian's fw_printenv/fw_setenv, which must be installed; `auto`: those when installed, else this
   * package's fakes of them (for the demo on a machine without libubootenv-tool). @default 'real'
   */
  readonly envTools?: 'real' | 'auto';
}

/**
 * Makes the disk in `dir` and flashes `ab-v1.fw` with the `complete` task through `fwupPath` (the fake by
 * default), as a factory would: slot a active and validated, `bootlimit=1`.
 */
export async function createAbDevice(dir: string, options: AbDeviceOptions = {}): Promise<AbDevice> {
  const fallback = options.envTools === 'auto' && abDeviceUnavailable() !== undefined;
  const printenv = fallback ? fakeFwPrintenvPath : requireTool('fw_printenv');
  const setenv = fallback ? fakeFwSetenvPath : requireTool('fw_setenv');
  const disk = join(dir, 'disk.img');
  const envConfig = join(dir, 'fw_env.config');
  writeFileSync(disk, '');
  await truncate(disk, DISK_BYTES);
  const { ubootEnvOffset, ubootEnvSize } = abFixtures.layout;
  writeFileSync(envConfig, `${disk} 0x${ubootEnvOffset.toString(16)} 0x${ubootEnvSize.toString(16)}\n`);
  const fwup = options.fwupPath ?? fakeFwupPath;
  const factory = [
    ...['-a', '-d', disk, '-i', abFixtures.v1Firmware, '-p', abFixtures.publicKey],
    ...['-t', 'complete', '-U', '-q'],
  ];
  await run(
    fwup.endsWith('.mjs') ? process.execPath : fwup,
    fwup.endsWith('.mjs') ? [fwup, ...factory] : factory,
  );

  const env = async (): Promise<Record<string, string>> => {
    const { stdout } = await run(printenv, ['-c', envConfig]);
    const values: Record<string, string> = {};
    for (const line of stdout.split('\n')) {
      const at = line.indexOf('=');
      if (at > 0) values[line.slice(0, at)] = line.slice(at + 1);
    }
    return values;
  };
  const setEnv = async (values: Readonly<Record<string, string>>): Promise<void> => {
    const script = join(dir, 'fw_setenv.script');
    // libubootenv 0.3.2 reads `name=value` lines from a script (a space-separated line is ignored).
    writeFileSync(
      script,
      `${Object.entries(values)
        .map(([name, value]) => `${name}=${value}`)
        .join('\n')}\n`,
    );
    await run(setenv, ['-c', envConfig, '-s', script]);
  };
  return { disk, printenv, envConfig, env, setEnv, boot: async () => bootOnce(await env(), setEnv) };
}

/**
 * Stands for the bootloader. U-Boot with boot counting in the environment (CONFIG_BOOTCOUNT_LIMIT,
 * CONFIG_BOOTCOUNT_ENV) counts boots only while `upgrade_available=1`; once `bootcount` passes `bootlimit` it
 * runs `altbootcmd` instead of `bootcmd`, which on a Nerves-style A/B layout switches `nerves_fw_active` to the
 * other slot and clears `upgrade_available`. Validating the firmware (`upgrade_available=0`) stops the counting.
 */
async function bootOnce(
  env: Record<string, string>,
  setEnv: (values: Readonly<Record<string, string>>) => Promise<void>,
): Promise<BootOutcome> {
  const active = env.nerves_fw_active === 'b' ? 'b' : 'a';
  if (env.upgrade_available !== '1') {
    return { slot: active, bootcount: Number(env.bootcount ?? 0), fellBack: false };
  }
  const bootcount = Number(env.bootcount ?? 0) + 1;
  const bootlimit = Number(env.bootlimit ?? 0);
  if (bootcount <= bootlimit) {
    await setEnv({ bootcount: String(bootcount) });
    return { slot: active, bootcount, fellBack: false };
  }
  const other = active === 'a' ? 'b' : 'a';
  await setEnv({ bootcount: String(bootcount), nerves_fw_active: other, upgrade_available: '0' });
  return { slot: other, bootcount, fellBack: true };
}

function findTool(name: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(delimiter).concat('/usr/bin', '/usr/sbin')) {
    try {
      accessSync(join(dir, name), constants.X_OK);
      return join(dir, name);
    } catch {
      // not in this folder
    }
  }
  return undefined;
}

function requireTool(name: string): string {
  const path = findTool(name);
  if (!path) throw new Error(`${name} is not installed (apt-get install libubootenv-tool)`);
  return path;
}
