import { MAX_URL_REFRESHES, RETRY_COOLDOWN_MS } from './constants.js';
import { classifyFailure } from './failure-reason.js';
import type { Logger } from './log.js';
import type { StatusReporter } from './status-reporter.js';
import { parseUpdateOffer, type UpdateOffer } from './update-offer.js';

/** The work an update needs done; the daemon wires these to the firmware package, tests to fakes. */
export interface UpdateSteps {
  /** Downloads the whole file and checks it; resolves with its path. Aborting deletes the partial file. */
  download(
    offer: UpdateOffer,
    options: {
      signal: AbortSignal;
      onProgress(percent: number | undefined, bytes: number, total?: number): void;
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
  /** Ask the server for a fresh offer (rejoin), after the firmware URL expired. */
  readonly requestFreshOffer: () => void;
  /** Called once the new firmware is written and reported: the daemon reboots. */
  readonly onApplied: (offer: UpdateOffer) => void;
  readonly now?: () => number;
}

type Phase = 'idle' | 'downloading' | 'verifying' | 'applying' | 'applied';

/**
 * One update at a time: offer → received → download (with progress) → verify → apply (with progress)
 * → completed. A failure is reported with its reason, the file is removed, and the daemon stays ready
 * for the next offer. The same firmware failing again waits out a growing cooldown, so a broken
 * image or a full disk cannot turn into a tight loop of downloads.
 */
export class UpdateManager {
  readonly #options: UpdateManagerOptions;
  readonly #now: () => number;
  #phase: Phase = 'idle';
  #current: UpdateOffer | undefined;
  #abort: AbortController | undefined;
  #running: Promise<void> | undefined;
  readonly #failures = new Map<string, { count: number; retryAt: number }>();
  readonly #urlRefreshes = new Map<string, number>();
  #deferred: { offer: UpdateOffer; timer: NodeJS.Timeout } | undefined;

  constructor(options: UpdateManagerOptions) {
    this.#options = options;
    this.#now = options.now ?? Date.now;
  }

  get phase(): Phase {
    return this.#phase;
  }

  /** For the join: the uuid being downloaded or applied, so the server keeps its in-flight record. */
  get currentlyDownloadingUuid(): string | null {
    return this.#phase === 'idle' ? null : (this.#current?.uuid ?? null);
  }

  /** Whether fwup is writing now (a reboot or shutdown must wait for it). */
  get isApplying(): boolean {
    return this.#phase === 'applying';
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
    if (this.#phase !== 'idle') {
      // A status here would clear the server's record of the update that is running.
      logger.info(`update ${offer.uuid} ignored: update ${this.#current?.uuid} is in progress`);
      return;
    }
    if (offer.uuid === runningUuid) {
      reporter.status('received');
      reporter.status('ignored', { reason: `firmware ${offer.uuid} is already running` });
      logger.info(`update ${offer.uuid} ignored: it is the firmware already running`);
      return;
    }
    const failure = this.#failures.get(offer.uuid);
    if (failure && failure.retryAt > this.#now()) {
      this.#defer(offer, failure.retryAt - this.#now(), failure.count);
      return;
    }
    this.#start(offer);
  }

  /** Stops a download (its file is deleted); waits for a running fwup to finish. */
  async shutdown(): Promise<void> {
    this.#cancelDeferred();
    this.#abort?.abort(new Error('shutting down'));
    await this.#running;
  }

  #defer(offer: UpdateOffer, delayMs: number, failures: number): void {
    this.#cancelDeferred();
    this.#options.logger.warn(
      `update ${offer.uuid} failed ${failures} time(s); trying it again in ${Math.ceil(delayMs / 1000)} s`,
    );
    const timer = setTimeout(() => {
      this.#deferred = undefined;
      if (this.#phase === 'idle') this.#start(offer);
    }, delayMs);
    timer.unref();
    this.#deferred = { offer, timer };
  }

  #cancelDeferred(): void {
    if (this.#deferred) clearTimeout(this.#deferred.timer);
    this.#deferred = undefined;
  }

  #start(offer: UpdateOffer): void {
    this.#cancelDeferred();
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
      logger.info(`update ${offer.uuid}${offer.version ? ` (${offer.version})` : ''}: downloading`, {
        size: offer.size,
      });
      reporter.status('started');
      path = await steps.download(offer, {
        signal,
        onProgress: (percent) => {
          if (percent !== undefined) reporter.progress('downloading', percent);
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
      reporter.status('completed');
      this.#failures.delete(offer.uuid);
      this.#urlRefreshes.delete(offer.uuid);
      logger.info(`update ${offer.uuid}: completed`);
      await steps.discard(path);
      this.#options.onApplied(offer);
    } catch (error) {
      if (path) await steps.discard(path);
      this.#phase = 'idle';
      this.#handleFailure(offer, error, signal);
    }
  }

  #handleFailure(offer: UpdateOffer, error: unknown, signal: AbortSignal): void {
    const { reporter, logger } = this.#options;
    const failure = classifyFailure(error);
    if (signal.aborted) {
      reporter.status('failed', { reason: `${failure.reason} (the device is shutting down)` });
      logger.warn(`update ${offer.uuid} stopped: the daemon is shutting down`);
      return;
    }
    if (failure.kind === 'expired-url') {
      const refreshes = (this.#urlRefreshes.get(offer.uuid) ?? 0) + 1;
      this.#urlRefreshes.set(offer.uuid, refreshes);
      if (refreshes <= MAX_URL_REFRESHES) {
        // No status: a `failed` would penalise the device. A rejoin without an in-flight uuid makes
        // NervesHub offer the update again, with a fresh URL.
        logger.warn(`update ${offer.uuid}: ${failure.reason}; asking the server for a fresh URL`);
        this.#options.requestFreshOffer();
        return;
      }
      this.#urlRefreshes.delete(offer.uuid);
    }
    reporter.status('failed', { reason: failure.reason });
    logger.error(
      `update ${offer.uuid} failed: ${failure.reason}`,
      failure.code ? { code: failure.code } : undefined,
    );
    const count = (this.#failures.get(offer.uuid)?.count ?? 0) + 1;
    const delay = Math.min(RETRY_COOLDOWN_MS.first * 2 ** (count - 1), RETRY_COOLDOWN_MS.max);
    this.#failures.set(offer.uuid, { count, retryAt: this.#now() + delay });
  }
}
