import { REASON_PREFIX, REPEATED_FAILURES, SERVER_KEYS_WAIT_MS } from './constants.js';
import { classifyFailure } from './failure-reason.js';
import type { Logger } from './log.js';
import type { Status, StatusReporter } from './status-reporter.js';
import { parseUpdateOffer, type UpdateOffer } from './update-offer.js';

/** The work an update needs done; the daemon wires these to the firmware package, tests to fakes. */
export interface UpdateSteps {
  /** Downloads the whole file and checks it; resolves with its path. Aborting deletes the partial file. */
  download(
    offer: UpdateOffer,
    options: {
      signal: AbortSignal;
      onProgress(percent: number | undefined, bytes: number, total?: number): void;
      /** Every HTTP connection the download opens (each attempt, each redirect hop). */
      onConnection(info: { networkInterface: string | undefined }): void;
    },
  ): Promise<string>;
  /** Checks the archive (signature, CRCs) without touching the device. */
  verify(path: string, options: { signal: AbortSignal }): Promise<void>;
  /** Writes the firmware. Never interrupted once started. */
  apply(path: string, options: { onProgress(percent: number): void }): Promise<void>;
  /** Removes a downloaded file; never throws. */
  discard(path: string): Promise<void>;
}

export interface UpdateManagerOptions {
  readonly steps: UpdateSteps;
  readonly reporter: StatusReporter;
  readonly logger: Logger;
  /** The uuid of the firmware running now: an offer of it is ignored. */
  readonly runningUuid: string | undefined;
  /** The fwup public keys known now: the configured ones, else those the server sent. */
  readonly publicKeys: () => readonly string[];
  /** `fwup.allow_unsigned`: apply firmware even when there is no key to check its signature with. */
  readonly allowUnsigned: boolean;
  /** Called once the new firmware is written and reported: the daemon reboots. */
  readonly onApplied: (offer: UpdateOffer) => void;
  /** @default SERVER_KEYS_WAIT_MS */
  readonly keysWaitMs?: number;
  readonly now?: () => number;
}

type Phase = 'idle' | 'awaiting-keys' | 'downloading' | 'verifying' | 'applying' | 'applied';

const STOPPED = Symbol('stopped');

/**
 * One update at a time: offer → received → download (`started` per connection, progress) → verify → apply
 * (progress) → completed. A failure is reported with its reason, the file is removed, and the daemon stays ready
 * for the next offer. A stop during download or verify reports nothing: NervesHub offers the update again after
 * the restart, and no attempt is counted against the device.
 */
export class UpdateManager {
  readonly #options: UpdateManagerOptions;
  readonly #now: () => number;
  #phase: Phase = 'idle';
  #current: UpdateOffer | undefined;
  #abort: AbortController | undefined;
  #running: Promise<void> | undefined;
  /** When each firmware failed recently, for the tight-loop guard. */
  readonly #failures = new Map<string, number[]>();
  /** uuids whose final status has not left the socket yet, oldest first (one entry per status). */
  readonly #unsentFinal: string[] = [];
  #keysArrived: (() => void) | undefined;
  /** After shutdown() no offer is taken: the daemon is stopping or rebooting. */
  #closed = false;

  constructor(options: UpdateManagerOptions) {
    this.#options = options;
    this.#now = options.now ?? Date.now;
  }

  get phase(): Phase {
    return this.#phase;
  }

  /**
   * For the join: the uuid of the update running now, else of one whose final status is still waiting to be
   * sent. Either way the server must keep that update's record, so the status lands on it instead of on an empty
   * one (a join without the uuid deletes the record, nerves_hub_web device_link.ex maybe_clear_inflight_update).
   */
  get currentlyDownloadingUuid(): string | null {
    if (this.#phase !== 'idle' && this.#current) return this.#current.uuid;
    return this.#unsentFinal.at(-1) ?? null;
  }

  /** Whether fwup is writing now (a reboot or shutdown must wait for it). */
  get isApplying(): boolean {
    return this.#phase === 'applying';
  }

  /** Whether a stop now would interrupt a download (or its checks); apply is never interrupted. */
  get isDownloading(): boolean {
    return this.#phase === 'awaiting-keys' || this.#phase === 'downloading' || this.#phase === 'verifying';
  }

  /** Handles an `update` push. */
  offer(payload: unknown): void {
    const { logger, reporter, runningUuid } = this.#options;
    const parsed = parseUpdateOffer(payload);
    if (!parsed.ok) {
      // Not an offer of anything: no status, or the server would open an in-flight record for it.
      logger.info(`update message ignored: ${parsed.reason}`);
      return;
    }
    const { offer } = parsed;
    if (this.#closed) {
      logger.info(`update ${offer.uuid} ignored: the daemon is stopping`);
      return;
    }
    if (this.#phase !== 'idle') {
      // A status here would land on the record of the update that is running.
      logger.info(`update ${offer.uuid} ignored: update ${this.#current?.uuid} is in progress`);
      return;
    }
    if (offer.uuid === runningUuid) {
      reporter.status('received');
      this.#reportFinal(offer.uuid, 'ignored', { reason: `firmware ${offer.uuid} is already running` });
      logger.info(`update ${offer.uuid} ignored: it is the firmware already running`);
      return;
    }
    const recent = this.#recentFailures(offer.uuid);
    if (recent.length >= REPEATED_FAILURES.count) {
      const minutes = Math.round(REPEATED_FAILURES.windowMs / 60_000);
      const laterMinutes = Math.round(REPEATED_FAILURES.rescheduleMs / 60_000);
      const reason =
        `firmware ${offer.uuid} failed ${recent.length} times on this device in the last ${minutes} minutes; ` +
        `asking to be offered it again in ${laterMinutes} minutes`;
      reporter.status('received');
      this.#reportFinal(offer.uuid, 'rescheduled', { delay_for: REPEATED_FAILURES.rescheduleMs, reason });
      logger.warn(`update ${offer.uuid} rescheduled: ${reason}`);
      return;
    }
    this.#start(offer);
  }

  /** The server sent fwup public keys: an offer waiting for them goes on. */
  keysChanged(): void {
    this.#keysArrived?.();
  }

  /** Stops a download (its file is deleted, no status is sent); waits for a running fwup to finish. */
  async shutdown(): Promise<void> {
    this.#closed = true;
    this.#abort?.abort(STOPPED);
    await this.#running;
  }

  #start(offer: UpdateOffer): void {
    this.#current = offer;
    this.#phase = 'downloading';
    this.#abort = new AbortController();
    this.#options.reporter.reset();
    this.#options.reporter.status('received');
    this.#running = this.#run(offer, this.#abort.signal).finally(() => {
      this.#running = undefined;
      this.#abort = undefined;
    });
  }

  async #run(offer: UpdateOffer, signal: AbortSignal): Promise<void> {
    const { steps, reporter, logger } = this.#options;
    let path: string | undefined;
    try {
      if (!(await this.#signingKeysReady(offer, signal))) {
        this.#phase = 'idle';
        this.#fail(offer, {
          reason:
            `${REASON_PREFIX.unverified}no fwup public keys to check the firmware signature with; ` +
            'configure fwup.public_keys on the device, or add a firmware signing key to the NervesHub organization ' +
            '(sent to devices that join without keys)',
        });
        return;
      }
      this.#phase = 'downloading';
      logger.info(`update ${offer.uuid}${offer.version ? ` (${offer.version})` : ''}: downloading`, {
        size: offer.size,
      });
      path = await steps.download(offer, {
        signal,
        onProgress: (percent) => {
          if (percent !== undefined) reporter.progress('downloading', percent);
        },
        onConnection: ({ networkInterface }) => {
          // As the reference does each time its download connection opens (nerves_hub_link downloader.ex).
          reporter.status(
            'started',
            networkInterface ? { downloader_network_interface: networkInterface } : {},
          );
        },
      });
      reporter.progress('downloading', 100);
      this.#phase = 'verifying';
      logger.info(`update ${offer.uuid}: verifying`);
      await steps.verify(path, { signal });
      if (signal.aborted) throw signal.reason;
      this.#phase = 'applying';
      logger.info(`update ${offer.uuid}: applying`);
      await steps.apply(path, { onProgress: (percent) => reporter.progress('updating', percent) });
      this.#phase = 'applied';
      reporter.progress('updating', 100);
      this.#reportFinal(offer.uuid, 'completed');
      this.#failures.delete(offer.uuid);
      logger.info(`update ${offer.uuid}: completed`);
      await steps.discard(path);
      this.#options.onApplied(offer);
    } catch (error) {
      if (path) await steps.discard(path);
      this.#phase = 'idle';
      if (signal.aborted) {
        // No status: `failed` would cost the device its updates for the penalty time. The next start joins
        // without an in-flight uuid, which clears the server's record and brings the offer again.
        logger.warn(
          `update ${offer.uuid} stopped: the daemon is shutting down; the download was removed and NervesHub will offer the update again`,
        );
        return;
      }
      this.#fail(offer, classifyFailure(error, offer.firmwareUrl));
    }
  }

  /**
   * True when fwup will have a key to check the signature with, or unsigned firmware is allowed. Without keys,
   * waits (bounded) for those the join asked the server for.
   */
  async #signingKeysReady(offer: UpdateOffer, signal: AbortSignal): Promise<boolean> {
    const { publicKeys, allowUnsigned, logger } = this.#options;
    if (publicKeys().length > 0) return true;
    if (allowUnsigned) {
      logger.warn(`update ${offer.uuid}: no fwup public keys; applying it unverified (fwup.allow_unsigned)`);
      return true;
    }
    if (signal.aborted) throw signal.reason;
    this.#phase = 'awaiting-keys';
    const waitMs = this.#options.keysWaitMs ?? SERVER_KEYS_WAIT_MS;
    logger.info(`update ${offer.uuid}: waiting up to ${waitMs / 1000} s for the server's fwup public keys`);
    await new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(timer);
        signal.removeEventListener('abort', done);
        this.#keysArrived = undefined;
        resolve();
      };
      const timer = setTimeout(done, waitMs);
      signal.addEventListener('abort', done, { once: true });
      this.#keysArrived = () => {
        if (publicKeys().length > 0) done();
      };
    });
    if (signal.aborted) throw signal.reason;
    return publicKeys().length > 0;
  }

  #fail(offer: UpdateOffer, failure: { reason: string; code?: string }): void {
    this.#reportFinal(offer.uuid, 'failed', { reason: failure.reason });
    this.#options.logger.error(
      `update ${offer.uuid} failed: ${failure.reason}`,
      failure.code ? { code: failure.code } : undefined,
    );
    this.#failures.set(offer.uuid, [...this.#recentFailures(offer.uuid), this.#now()]);
  }

  /** A status that ends the server's record of the update; until it has left, joins keep naming the update. */
  #reportFinal(uuid: string, status: Status, extra: Record<string, unknown> = {}): void {
    this.#unsentFinal.push(uuid);
    this.#options.reporter.status(status, extra, () => {
      const index = this.#unsentFinal.indexOf(uuid);
      if (index !== -1) this.#unsentFinal.splice(index, 1);
    });
  }

  #recentFailures(uuid: string): number[] {
    const since = this.#now() - REPEATED_FAILURES.windowMs;
    const recent = (this.#failures.get(uuid) ?? []).filter((at) => at > since);
    if (recent.length > 0) this.#failures.set(uuid, recent);
    else this.#failures.delete(uuid);
    return recent;
  }
}
