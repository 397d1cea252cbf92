import { readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from '../log/logger.js';
import type { UpdateListener } from '../update/events.js';
import { describeUpdate, type UpdateFacts } from '../update/facts.js';

/**
 * A firmware fwup has written that waits for the reboot that starts it, kept in `data_dir` so that a restart of
 * the daemon (systemctl restart, a crash, the OOM killer) does not forget it: on an A/B layout another update
 * now would overwrite the slot the next boot is to start. The record names the boot it was written in; a
 * different boot (or the written firmware running) ends it.
 */
export const WRITTEN_FIRMWARE_FILE = 'written-firmware.json';
const FORMAT = 1;
/** Linux: a random id, new at every boot. */
const BOOT_ID_FILE = '/proc/sys/kernel/random/boot_id';

interface WrittenRecord {
  readonly format: typeof FORMAT;
  readonly update: UpdateFacts;
  readonly written_at: string;
  /** The boot it was written in; null where the system does not tell. */
  readonly boot_id: string | null;
}

export interface WrittenFirmwareOptions {
  readonly dataDir: string;
  readonly logger: Pick<Logger, 'info' | 'warn'>;
  /** @default the kernel's boot id, or null without one */
  readonly bootId?: () => string | null;
  readonly now?: () => number;
}

export class WrittenFirmware {
  readonly #path: string;
  readonly #options: WrittenFirmwareOptions;
  readonly #bootId: () => string | null;

  constructor(options: WrittenFirmwareOptions) {
    this.#options = options;
    this.#path = join(options.dataDir, WRITTEN_FIRMWARE_FILE);
    this.#bootId = options.bootId ?? kernelBootId;
  }

  /**
   * The firmware written before this start that still waits for its reboot: written in this boot and not the
   * one running. A record of an earlier boot is removed: the reboot came (into the written firmware, or the
   * device went back to the one it had).
   */
  pending(runningUuid: string | undefined): UpdateFacts | undefined {
    const { logger } = this.#options;
    const record = this.#read();
    if (!record) return undefined;
    const { update } = record;
    if (update.uuid === runningUuid) {
      this.#forget();
      return undefined;
    }
    const boot = this.#bootId();
    // Without boot ids no reboot can be seen: the written firmware waits, rather than being written over.
    if (record.boot_id !== null && boot !== null && record.boot_id !== boot) {
      logger.warn(
        `firmware ${describeUpdate(update)} was written (${record.written_at}), but the device rebooted into ${runningUuid ?? 'another firmware'}; updates are taken again`,
      );
      this.#forget();
      return undefined;
    }
    logger.info(
      `firmware ${describeUpdate(update)} was written (${record.written_at}) and waits for the reboot; no other update until then`,
    );
    return update;
  }

  /** fwup has written `update`. Failing to keep the record is logged, never fatal. */
  save(update: UpdateFacts): void {
    const record: WrittenRecord = {
      format: FORMAT,
      update,
      written_at: new Date((this.#options.now ?? Date.now)()).toISOString(),
      boot_id: this.#bootId(),
    };
    const temporary = `${this.#path}.${process.pid}.tmp`;
    try {
      writeFileSync(temporary, `${JSON.stringify(record, null, 2)}\n`, { mode: 0o644 });
      renameSync(temporary, this.#path);
    } catch (error) {
      this.#options.logger.warn(
        `could not keep ${this.#path}: ${(error as Error).message}; a restart before the reboot forgets the written firmware`,
      );
    }
  }

  #read(): WrittenRecord | undefined {
    let text: string;
    try {
      text = readFileSync(this.#path, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      this.#options.logger.warn(`cannot read ${this.#path}: ${(error as Error).message}`);
      return undefined;
    }
    try {
      const record = JSON.parse(text) as Partial<WrittenRecord>;
      if (
        record.format === FORMAT &&
        typeof record.update?.uuid === 'string' &&
        typeof record.written_at === 'string' &&
        (typeof record.boot_id === 'string' || record.boot_id === null)
      ) {
        return record as WrittenRecord;
      }
    } catch {
      // Reported below.
    }
    this.#options.logger.warn(`${this.#path} is damaged; removed`);
    this.#forget();
    return undefined;
  }

  #forget(): void {
    rmSync(this.#path, { force: true });
  }
}

/** Keeps the record once fwup has written an update's firmware. */
export function rememberWritten(store: WrittenFirmware): UpdateListener {
  return (event) => {
    if (event.type === 'stage-done' && event.stage === 'applying') store.save(event.update);
  };
}

function kernelBootId(): string | null {
  try {
    return readFileSync(BOOT_ID_FILE, 'utf8').trim() || null;
  } catch {
    return null;
  }
}
