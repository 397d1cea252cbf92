/**
 * libubootenv's configuration file (fw_env.config): one line per copy of the environment, `device offset size`
 * (offsets and sizes in decimal or 0x hex; further columns for flash sectors are ignored here), `#` comments.
 * Only the first copy is used: the layout the fwup-ab fixtures and fwup's `uboot-environment` write.
 */
import { readFileSync } from 'node:fs';

export interface EnvLocation {
  readonly device: string;
  readonly offset: number;
  readonly size: number;
}

/** The first environment the file names, or undefined when it names none (libubootenv: "wrong or corrupted"). */
export function readEnvConfig(path: string): EnvLocation | undefined {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
  for (const line of text.split('\n')) {
    const fields = line.replace(/#.*/, '').trim().split(/\s+/);
    if (fields.length < 3 || fields[0] === '') continue;
    const offset = Number(fields[1]);
    const size = Number(fields[2]);
    if (!Number.isSafeInteger(offset) || !Number.isSafeInteger(size) || size <= 8) return undefined;
    return { device: fields[0]!, offset, size };
  }
  return undefined;
}
