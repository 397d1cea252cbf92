/**
 * Task selection (fwup src/fwup_apply.c `find_task`, src/requirement.c @6f3bf79): the first task in file order
 * whose name starts with the `-t` argument and whose requirements all hold on the target as it is before
 * anything is written. A requirement that cannot be evaluated (unreadable environment, missing variable, no MBR)
 * is simply not met.
 */
import type { BlockCache } from './block-cache.js';
import { BLOCK_BYTES, FwupError, readUbootEnv } from './functions.js';
import type { FwConfig, FwTask } from './fw-config.js';
import { splitCalls } from './fw-config.js';

export function findTask(config: FwConfig, cache: BlockCache, prefix: string): FwTask | undefined {
  return config.tasks.find(
    (task) =>
      task.name.startsWith(prefix) &&
      (task.requirePartition1Offset < 0 || partitionOffset(cache, 1) === task.requirePartition1Offset) &&
      requirementsMet(config, cache, task),
  );
}

function requirementsMet(config: FwConfig, cache: BlockCache, task: FwTask): boolean {
  if (!task.reqlist) return true;
  let requirements: string[][];
  try {
    requirements = splitCalls(task.reqlist, 'reqlist');
  } catch {
    return false;
  }
  return requirements.every((args) => requirementMet(config, cache, args));
}

function requirementMet(config: FwConfig, cache: BlockCache, args: readonly string[]): boolean {
  switch (args[0]) {
    case 'require-uboot-variable': {
      const env = config.ubootEnvironments.get(args[1] ?? '');
      if (args.length !== 4 || !env) return false;
      if (env.redundantBlockOffset !== undefined) {
        throw new FwupError(
          'fake fwup: a redundant U-Boot environment (block-offset-redund) is not implemented',
        );
      }
      try {
        return readUbootEnv({ cache }, env).get(args[2]!) === args[3];
      } catch {
        return false;
      }
    }
    case 'require-partition-offset':
      return args.length === 3 && partitionOffset(cache, Number(args[1])) === Number(args[2]);
    case 'require-path-on-device':
    case 'require-path-at-offset':
    case 'require-execute':
      // A path of the running system is never on an image file, and execute needs --unsafe: never met here.
      return false;
    case 'require-fat-file-exists':
    case 'require-fat-file-match':
      throw new FwupError(
        `fake fwup: ${args[0]} is not implemented (see @nerves-hub-link/test-server README)`,
      );
    default:
      return false;
  }
}

/** The block offset of an MBR primary partition, or undefined without an MBR signature. */
function partitionOffset(cache: BlockCache, partition: number): number | undefined {
  if (!(partition >= 0 && partition < 4)) return undefined;
  const mbr = cache.read(0, BLOCK_BYTES);
  if (mbr[510] !== 0x55 || mbr[511] !== 0xaa) return undefined;
  return mbr.readUInt32LE(446 + partition * 16 + 8);
}
