/**
 * What fwup takes from an archive's meta.conf to apply it: tasks in file order with their requirement list and
 * event function lists, file resources (length, BLAKE2b-256), U-Boot environment locations, the block cache
 * size (fwup src/cfgfile.c option tables @6f3bf79; unknown options are ignored, as fwup parses with
 * CFGF_IGNORE_UNKNOWN).
 */
import { type ConfItem, type ConfSection, type Environment, parseConf } from './conf.js';

export interface FwTask {
  readonly name: string;
  /** `{arity, name, args..., arity, ...}` as stored by fwup; undefined without requirements. */
  readonly reqlist: readonly string[] | undefined;
  /** Deprecated `require-partition1-offset`, -1 when unset. */
  readonly requirePartition1Offset: number;
  readonly onInit: readonly string[] | undefined;
  readonly onFinish: readonly string[] | undefined;
  readonly onError: readonly string[] | undefined;
  /** `on-resource` sections in file order: resource name → funlist. */
  readonly onResource: ReadonlyMap<string, readonly string[]>;
}

export interface FwResource {
  readonly name: string;
  /** Sparse map: data and hole lengths alternating, starting with data (one entry for a plain file). */
  readonly lengths: readonly number[];
  readonly blake2b256: string | undefined;
}

export interface UbootEnvironmentConfig {
  readonly name: string;
  readonly blockOffset: number;
  readonly blockCount: number;
  readonly redundantBlockOffset: number | undefined;
}

export interface FwConfig {
  readonly meta: Readonly<Record<string, string>>;
  readonly tasks: readonly FwTask[];
  readonly resources: ReadonlyMap<string, FwResource>;
  readonly ubootEnvironments: ReadonlyMap<string, UbootEnvironmentConfig>;
  readonly blockCacheSizeMb: number;
}

export function parseFwConfig(text: string, environment: Environment): FwConfig {
  const items = parseConf(text, environment);
  const meta: Record<string, string> = {};
  const tasks: FwTask[] = [];
  const resources = new Map<string, FwResource>();
  const ubootEnvironments = new Map<string, UbootEnvironmentConfig>();
  let blockCacheSizeMb = 8;
  for (const item of items) {
    if (item.kind === 'option') {
      if (item.name.startsWith('meta-')) meta[item.name] = item.values[0] ?? '';
      if (item.name === 'block-cache-size-mb') blockCacheSizeMb = Number(item.values[0]);
      continue;
    }
    const title = item.title ?? '';
    if (item.name === 'task') tasks.push(readTask(title, item));
    else if (item.name === 'file-resource') {
      resources.set(title, {
        name: title,
        lengths: (option(item, 'length') ?? ['0']).map(Number),
        blake2b256: option(item, 'blake2b-256')?.[0],
      });
    } else if (item.name === 'uboot-environment') {
      const redundant = option(item, 'block-offset-redund')?.[0];
      ubootEnvironments.set(title, {
        name: title,
        blockOffset: Number(option(item, 'block-offset')?.[0] ?? 0),
        blockCount: Number(option(item, 'block-count')?.[0] ?? 0),
        redundantBlockOffset: redundant === undefined ? undefined : Number(redundant),
      });
    }
  }
  return { meta, tasks, resources, ubootEnvironments, blockCacheSizeMb };
}

function readTask(name: string, section: ConfSection): FwTask {
  const funlist = (event: string) => {
    const found = section.body.find(
      (item): item is ConfSection => item.kind === 'section' && item.name === event,
    );
    return found ? (option(found, 'funlist') ?? []) : undefined;
  };
  const onResource = new Map<string, readonly string[]>();
  for (const item of section.body) {
    if (item.kind === 'section' && item.name === 'on-resource' && item.title !== undefined) {
      onResource.set(item.title, option(item, 'funlist') ?? []);
    }
  }
  return {
    name,
    reqlist: option(section, 'reqlist'),
    requirePartition1Offset: Number(option(section, 'require-partition1-offset')?.[0] ?? -1),
    onInit: funlist('on-init'),
    onFinish: funlist('on-finish'),
    onError: funlist('on-error'),
    onResource,
  };
}

function option(section: { body: readonly ConfItem[] }, name: string): readonly string[] | undefined {
  let found: readonly string[] | undefined;
  for (const item of section.body) if (item.kind === 'option' && item.name === name) found = item.values;
  return found;
}

/** Splits `{arity, name, args..., ...}` into calls; throws fwup's message for a malformed list. */
export function splitCalls(list: readonly string[], what: 'funlist' | 'reqlist'): string[][] {
  const calls: string[][] = [];
  for (let at = 0; at < list.length; ) {
    const arity = Number.parseInt(list[at++]!, 10);
    if (!(arity > 0 && arity <= 10)) throw new Error(`Unexpected argc value in ${what}`);
    const call = list.slice(at, at + arity);
    if (call.length < arity) throw new Error(`Unexpected error with ${what}`);
    calls.push([...call]);
    at += arity;
  }
  return calls;
}
