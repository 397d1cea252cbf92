/**
 * `fwup -a` (fwup src/fwup.c, src/fwup_apply.c @6f3bf79): progress 0 first; the target opened (created 0644,
 * never truncated) before the archive; signature and task selection before anything is written; the progress
 * total computed; on-init, then each archive entry the task has an on-resource for, then on-finish; the cache
 * flushed, progress 100, success. Any failure after progress 0 prints a newline on stderr (unless -q), then
 * the error. A failure inside the task throws away what the cache still holds and runs the task's on-error.
 */
import type { KeyObject } from 'node:crypto';
import { closeSync, constants, existsSync, fstatSync, openSync, statSync } from 'node:fs';
import { openFwArchive } from './archive.js';
import { BlockCache } from './block-cache.js';
import { FwupError, funlistUnits, runFunlist, type TaskContext } from './functions.js';
import type { Output } from './output.js';
import { Progress } from './progress.js';
import { findTask } from './requirements.js';

export interface ApplyOptions {
  readonly input: string | undefined;
  readonly devpath: string | undefined;
  readonly task: string | undefined;
  readonly keys: readonly KeyObject[];
  readonly quiet: boolean;
  readonly numeric: boolean;
  readonly progressLow: number;
  readonly progressHigh: number;
  readonly delayMs: number;
}

export function apply(options: ApplyOptions, out: Output): never {
  if (options.task === undefined) out.fail('specify a task (-t)');
  if (options.devpath === undefined) out.fail('No memory cards found. Try reinserting the card.');
  out.progressMode = options.quiet ? 'off' : out.framing ? 'framing' : options.numeric ? 'numeric' : 'normal';
  const progress = new Progress(out, options.progressLow, options.progressHigh, options.delayMs);
  progress.start();
  const targetFd = openTarget(options.devpath, out);
  let cache: BlockCache | undefined;
  try {
    progress.report(0);
    if (options.input === undefined)
      throw new FwupError('fake fwup: reading the archive from stdin is not implemented');
    const archive = openFwArchive(options.input, options.keys, (bytes) => {
      progress.inputBytes = bytes;
    });
    cache = new BlockCache(targetFd, archive.config.blockCacheSizeMb);
    const task = findTask(archive.config, cache, options.task);
    if (!task) {
      throw new FwupError(
        `Couldn't find applicable task '${options.task}'. If task is available, the task's requirements may not be met.`,
      );
    }
    const context: TaskContext = { config: archive.config, task, cache, progress, out, zip: archive.zip };
    progress.totalUnits = totalUnits(context);
    runTask(context);
    cache.flush();
    cache = undefined;
    closeSync(targetFd);
    progress.complete();
  } catch (error) {
    if (!(error instanceof FwupError)) throw error;
    cache?.flush();
    if (!options.quiet) out.writeStderr('\n');
    out.fail(error.message);
  }
  out.succeed('');
}

/** Opens the target like fwup: a regular file (or a new one) read-write, refusing one without write permission. */
function openTarget(devpath: string, out: Output): number {
  const path = Buffer.from(devpath, 'latin1');
  const isRegular = !existsSync(path) || statSync(path).isFile();
  let fd = -1;
  try {
    fd = openSync(path, isRegular ? constants.O_RDWR | constants.O_CREAT : constants.O_RDWR, 0o644);
    if ((fstatSync(fd).mode & 0o222) === 0) {
      closeSync(fd);
      fd = -1;
    }
  } catch {
    fd = -1;
  }
  if (fd >= 0) return fd;
  out.writeStderr('\n');
  out.fail(
    existsSync(path)
      ? `Cannot open '${devpath}' for output.\nCheck file permissions or the read-only tab if this is an SD Card.`
      : `Cannot create '${devpath}'.\nCheck the path and permissions on the containing directory.`,
  );
}

/** fwup's `compute_progress`: on-init, each on-resource whose file-resource exists, on-finish. */
function totalUnits(context: TaskContext): number {
  const { task, config } = context;
  let units = funlistUnits(context, task.onInit);
  for (const [resource, funlist] of task.onResource) {
    if (!config.resources.has(resource)) continue;
    context.resource = resource;
    units += funlistUnits(context, funlist);
  }
  context.resource = undefined;
  return units + funlistUnits(context, task.onFinish);
}

function runTask(context: TaskContext): void {
  const { task, config, zip } = context;
  try {
    for (const resource of task.onResource.keys()) {
      if (!config.resources.has(resource)) {
        throw new FwupError(`Resource '${resource}' used, but metadata is missing. Archive is corrupt.`);
      }
    }
    runFunlist(context, task.onInit);
    const processed = new Set<string>();
    for (;;) {
      let entry: ReturnType<typeof zip.nextHeader>;
      try {
        entry = zip.nextHeader();
      } catch {
        // fwup loops while a header reads OK: a damaged tail just ends the loop.
        break;
      }
      if (!entry) break;
      const resource = entry.name.startsWith('data/') ? entry.name.slice(5) : `/${entry.name}`;
      const funlist = task.onResource.get(resource);
      if (resource === '' || !funlist) continue;
      const expected = config.resources.get(resource)!;
      if (expected.lengths.length === 1 && entry.sizeIsSet && entry.size !== expected.lengths[0]) {
        throw new FwupError(
          `File '${resource}' isn't expected size (${entry.size} vs ${expected.lengths[0]}) and xdelta3 patch support not enabled on it. (Add delta-source-raw-offset / delta-source-raw-count or delta-source-fat-offset / delta-source-fat-path)`,
        );
      }
      context.resource = resource;
      runFunlist(context, funlist);
      context.resource = undefined;
      processed.add(resource);
    }
    for (const resource of task.onResource.keys()) {
      if (!processed.has(resource)) throw new FwupError(`Resource ${resource} not found in archive`);
    }
    runFunlist(context, task.onFinish);
  } catch (error) {
    context.cache.reset();
    try {
      runFunlist(context, task.onError);
    } catch {
      context.cache.reset();
    }
    throw error;
  }
}
