/**
 * The functions a task runs (fwup src/functions.c @6f3bf79): each adds its share to the progress total before
 * the task starts, then runs. Implemented: raw_write, raw_memset, uboot_clearenv, uboot_setenv, uboot_unsetenv,
 * uboot_recover, info, error. The other fwup functions (FAT, MBR/GPT, trim, path/pipe writes, execute, ...) make
 * the fake fail before anything is written, with a message that says so, rather than pretend.
 */

import { Blake2b } from '../firmware-host/blake2b.js';
import type { BlockCache } from './block-cache.js';
import type { FwConfig, FwResource, FwTask, UbootEnvironmentConfig } from './fw-config.js';
import { splitCalls } from './fw-config.js';
import type { Output } from './output.js';
import { PadToBlockWriter } from './pad-to-block.js';
import type { Progress } from './progress.js';
import { decodeUbootEnv, encodeUbootEnv, type UbootVariables } from './uboot-env.js';
import type { ZipStream } from './zip-stream.js';

export const BLOCK_BYTES = 512;

/** A failure with fwup's message (what `set_last_error` holds when fwup gives up). */
export class FwupError extends Error {
  override name = 'FwupError';
}

export interface TaskContext {
  readonly config: FwConfig;
  readonly task: FwTask;
  readonly cache: BlockCache;
  readonly progress: Progress;
  readonly out: Output;
  readonly zip: ZipStream;
  /** The resource of the `on-resource` section being run. */
  resource?: string;
}

interface FwupFunction {
  units(context: TaskContext, args: readonly string[]): number;
  run(context: TaskContext, args: readonly string[]): void;
}

const NOT_IMPLEMENTED = [
  'fat_attrib',
  'fat_mkfs',
  'fat_write',
  'fat_mv',
  'fat_mv!',
  'fat_rm',
  'fat_rm!',
  'fat_cp',
  'fat_mkdir',
  'fat_setlabel',
  'fat_touch',
  'gpt_write',
  'mbr_write',
  'trim',
  'path_write',
  'pipe_write',
  'ubi_volume_write',
  'execute',
  'reboot_param',
];

const FUNCTIONS: Readonly<Record<string, FwupFunction>> = {
  raw_write: { units: (context) => dataLength(resourceOf(context, 'raw_write')), run: rawWrite },
  raw_memset: {
    units: (_, args) => Number(args[2]) * BLOCK_BYTES,
    run(context, args) {
      const block = Buffer.alloc(BLOCK_BYTES, Number(args[3]));
      const start = Number(args[1]) * BLOCK_BYTES;
      for (let at = 0; at < Number(args[2]) * BLOCK_BYTES; at += BLOCK_BYTES) {
        context.cache.write(block, start + at, true);
        context.progress.report(BLOCK_BYTES);
      }
    },
  },
  uboot_clearenv: {
    units: ubootUnits,
    run(context, args) {
      const env = ubootEnvironment(context, args);
      writeUbootEnv(context, env, new Map());
      context.progress.report(ubootUnits(context, args));
    },
  },
  uboot_setenv: {
    units: ubootUnits,
    run(context, args) {
      const env = ubootEnvironment(context, args);
      const variables = readUbootEnv(context, env);
      variables.set(args[2]!, args[3]!);
      writeUbootEnv(context, env, variables);
      context.progress.report(ubootUnits(context, args));
    },
  },
  uboot_unsetenv: {
    units: ubootUnits,
    run(context, args) {
      const env = ubootEnvironment(context, args);
      const variables = readUbootEnv(context, env);
      variables.delete(args[2]!);
      writeUbootEnv(context, env, variables);
      context.progress.report(ubootUnits(context, args));
    },
  },
  uboot_recover: {
    units: ubootUnits,
    run(context, args) {
      const env = ubootEnvironment(context, args);
      try {
        readUbootEnv(context, env);
      } catch {
        writeUbootEnv(context, env, new Map());
      }
      context.progress.report(ubootUnits(context, args));
    },
  },
  info: {
    units: () => 0,
    run: (context, args) => context.out.warn(args[1] ?? ''),
  },
  error: {
    units: () => 0,
    run(_, args) {
      throw new FwupError(args[1] ?? '');
    },
  },
};

function lookup(name: string | undefined): FwupFunction {
  const found = name === undefined ? undefined : FUNCTIONS[name];
  if (found) return found;
  if (name !== undefined && NOT_IMPLEMENTED.includes(name)) {
    throw new FwupError(`fake fwup: ${name}() is not implemented (see @nerves-hub-link/test-server README)`);
  }
  throw new FwupError('Unknown function');
}

/** `fun_apply_funlist(..., fun_compute_progress)`: the units the list will report. */
export function funlistUnits(context: TaskContext, funlist: readonly string[] | undefined): number {
  if (!funlist) return 0;
  let units = 0;
  for (const args of calls(funlist)) units += lookup(args[0]).units(context, args);
  return units;
}

/** `fun_apply_funlist(..., fun_run)`. */
export function runFunlist(context: TaskContext, funlist: readonly string[] | undefined): void {
  if (!funlist) return;
  for (const args of calls(funlist)) lookup(args[0]).run(context, args);
}

function calls(funlist: readonly string[]): string[][] {
  try {
    return splitCalls(funlist, 'funlist');
  } catch (error) {
    throw new FwupError((error as Error).message);
  }
}

function resourceOf(context: TaskContext, fn: string): FwResource {
  const resource =
    context.resource === undefined ? undefined : context.config.resources.get(context.resource);
  if (!resource) throw new FwupError(`${fn} can't find file-resource '${context.resource ?? ''}'`);
  if (resource.lengths.length > 1) {
    throw new FwupError(`fake fwup: sparse resource '${resource.name}' is not implemented`);
  }
  return resource;
}

function dataLength(resource: FwResource): number {
  return resource.lengths.reduce((sum, length, index) => (index % 2 === 0 ? sum + length : sum), 0);
}

/** Streams the resource's entry to its block offset, then checks length and BLAKE2b-256 like fwup. */
function rawWrite(context: TaskContext, args: readonly string[]): void {
  if (args.length > 2) throw new FwupError('fake fwup: raw_write with disk encryption is not implemented');
  const resource = resourceOf(context, 'raw_write');
  if (resource.blake2b256?.length !== 64) throw new FwupError(`invalid blake2b hash for '${resource.name}'`);
  const writer = new PadToBlockWriter(context.cache, Number(args[1]) * BLOCK_BYTES);
  const hash = new Blake2b(32);
  let total = 0;
  for (;;) {
    let data: Buffer | undefined;
    try {
      data = context.zip.readDataBlock();
    } catch (error) {
      throw new FwupError((error as Error).message);
    }
    if (data === undefined) break;
    if (data.length === 0) continue;
    hash.update(data);
    writer.write(data);
    total += data.length;
    context.progress.report(data.length);
  }
  const expected = dataLength(resource);
  if (total !== expected) {
    throw new FwupError(
      total === 0
        ? `raw_write didn't write anything and was likely called twice in an on-resource for '${resource.name}'. Try a "cp" function.`
        : `raw_write wrote ${total} bytes for '${resource.name}', but should have written ${expected}`,
    );
  }
  if (hash.digest().toString('hex') !== resource.blake2b256) {
    throw new FwupError(`raw_write detected blake2b mismatch on '${resource.name}'`);
  }
  writer.flush();
}

function ubootEnvironment(context: TaskContext, args: readonly string[]): UbootEnvironmentConfig {
  const env = context.config.ubootEnvironments.get(args[1] ?? '');
  if (!env) {
    throw new FwupError(
      args.length < 2
        ? `${args[0]} requires uboot-environment`
        : `${args[0]} can't find uboot-environment reference ${args[1]}`,
    );
  }
  if (env.redundantBlockOffset !== undefined) {
    throw new FwupError('fake fwup: a redundant U-Boot environment (block-offset-redund) is not implemented');
  }
  return env;
}

function ubootUnits(context: TaskContext, args: readonly string[]): number {
  const env = context.config.ubootEnvironments.get(args[1] ?? '');
  if (!env) return BLOCK_BYTES;
  return env.blockCount * (env.redundantBlockOffset === undefined ? 1 : 2) * BLOCK_BYTES;
}

/** The environment on the target; throws fwup's message when its CRC is wrong (a blank block). */
export function readUbootEnv(
  context: Pick<TaskContext, 'cache'>,
  env: UbootEnvironmentConfig,
): UbootVariables {
  const block = context.cache.read(env.blockOffset * BLOCK_BYTES, env.blockCount * BLOCK_BYTES);
  try {
    return decodeUbootEnv(block, env.blockOffset);
  } catch (error) {
    throw new FwupError((error as Error).message);
  }
}

function writeUbootEnv(context: TaskContext, env: UbootEnvironmentConfig, variables: UbootVariables): void {
  let block: Buffer;
  try {
    block = encodeUbootEnv(variables, env.blockCount * BLOCK_BYTES);
  } catch (error) {
    throw new FwupError((error as Error).message);
  }
  context.cache.write(block, env.blockOffset * BLOCK_BYTES, false);
}
