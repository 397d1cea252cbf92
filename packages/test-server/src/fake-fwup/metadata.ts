/**
 * `fwup -m`: the `meta-*` values of meta.conf and the computed `meta-uuid`, quoted as fwup's cfgprint does
 * (bare when only letters, digits, `_` and `.`), or one raw value with `--metadata-key` (`(null)` when unset).
 * Only meta.conf is read, so a damaged payload does not matter. Not reproduced: `meta-creation-date` and
 * `meta-nickname` (the nickname needs fwup's word list).
 */
import type { KeyObject } from 'node:crypto';
import { openFwArchive } from './archive.js';
import { FwupError } from './functions.js';
import { FwupExit, type Output } from './output.js';

export function printMetadata(
  input: string | undefined,
  keys: readonly KeyObject[],
  key: string | undefined,
  out: Output,
): never {
  let values: Record<string, string>;
  try {
    if (input === undefined) throw new FwupError('Specify an input firmware file');
    const { config, uuid } = openFwArchive(input, keys);
    values = { ...config.meta, 'meta-uuid': uuid };
  } catch (error) {
    if (error instanceof FwupError) out.fail(error.message);
    throw error;
  }
  if (key !== undefined) {
    out.writeStdout(`${values[key] ?? '(null)'}\n`);
    throw new FwupExit(0);
  }
  const quote = (value: string) =>
    /^[A-Za-z0-9_.]+$/.test(value) ? value : `"${value.replace(/[\\"]/g, '\\$&')}"`;
  out.succeed(
    Object.entries(values)
      .filter(([, value]) => value !== '')
      .map(([name, value]) => `${name}=${quote(value)}\n`)
      .join(''),
  );
}
