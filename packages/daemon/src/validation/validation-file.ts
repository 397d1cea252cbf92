/**
 * `data_dir/validation.json`: what validation must remember across restarts and reboots: how long the running
 * firmware has been unvalidated, and the last firmware rolled back. Written atomically (a temporary file renamed
 * over it); a file that cannot be read is treated as empty, with a warning, rather than stopping the daemon.
 */
import { readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { StoredCount } from './unvalidated-time.js';

export const VALIDATION_FILE = 'validation.json';

/** A firmware the device went back from. */
export interface RevertRecord {
  readonly uuid: string;
  readonly version: string | null;
  /** When the revert happened or was seen (ISO 8601). */
  readonly at: string;
  /** Why, as told to NervesHub with the next offer of that firmware. */
  readonly reason: string;
  /** The daemon ran validation.revert_command, or the bootloader fell back by itself. */
  readonly by: 'daemon' | 'bootloader';
  /** The first offer of this firmware after the revert was answered `ignored`; later ones are taken. */
  readonly offer_answered: boolean;
}

export interface ValidationFileContent {
  readonly unvalidated?: StoredCount;
  readonly last_revert?: RevertRecord;
}

export class ValidationFile {
  readonly #path: string;

  constructor(dataDir: string) {
    this.#path = join(dataDir, VALIDATION_FILE);
  }

  get path(): string {
    return this.#path;
  }

  /** The content, or empty with `problem` set when the file exists but cannot be used. */
  read(): { content: ValidationFileContent; problem?: string } {
    let text: string;
    try {
      text = readFileSync(this.#path, 'utf8');
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      return code === 'ENOENT'
        ? { content: {} }
        : { content: {}, problem: `cannot read ${this.#path} (${code})` };
    }
    try {
      const parsed = JSON.parse(text) as { format?: unknown } & ValidationFileContent;
      if (parsed.format !== 1)
        return { content: {}, problem: `${this.#path} is not a format the daemon knows` };
      return {
        content: {
          ...(isCount(parsed.unvalidated) ? { unvalidated: parsed.unvalidated } : {}),
          ...(isRevert(parsed.last_revert) ? { last_revert: parsed.last_revert } : {}),
        },
      };
    } catch {
      return { content: {}, problem: `${this.#path} is not valid JSON` };
    }
  }

  write(content: ValidationFileContent): void {
    if (content.unvalidated === undefined && content.last_revert === undefined) {
      rmSync(this.#path, { force: true });
      return;
    }
    const temporary = `${this.#path}.${process.pid}.tmp`;
    writeFileSync(temporary, `${JSON.stringify({ format: 1, ...content }, null, 2)}\n`, { mode: 0o600 });
    renameSync(temporary, this.#path);
  }
}

function isCount(value: unknown): value is StoredCount {
  const count = value as StoredCount | undefined;
  return (
    typeof count?.uuid === 'string' &&
    typeof count.first_started_at === 'string' &&
    [count.carried_ms, count.boot_started_ms, count.seen_ms].every(Number.isFinite) &&
    typeof count.boot_id === 'string'
  );
}

function isRevert(value: unknown): value is RevertRecord {
  const record = value as RevertRecord | undefined;
  return (
    typeof record?.uuid === 'string' &&
    typeof record.at === 'string' &&
    typeof record.reason === 'string' &&
    (record.by === 'daemon' || record.by === 'bootloader') &&
    typeof record.offer_answered === 'boolean'
  );
}
