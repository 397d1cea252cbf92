import { formatDuration } from '../config/values/duration.js';
import type { Logger } from '../log/logger.js';
import {
  DEPLOYMENT_REOFFER_GRACE_MS,
  OFFER_REUSE_LIMIT_MS,
  REASON_PREFIX,
  REPEATED_FAILURES,
  SERVER_KEYS_WAIT_MS,
} from './constants.js';
import { describeUpdate, type UpdateFacts, updateFacts } from './facts.js';
import { classifyFailure } from './failure-reason.js';
import { parseUpdateOffer, type UpdateOffer } from './offer.js';
import { APPLY_EVERYTHING, type PreparationResult, type UpdatePolicy } from './policy.js';
import type { ProgressSink } from './progress-display.js';
import type { ResultStatus, UpdateStage } from './stage.js';
import type { Status, StatusReporter } from './status-reporter.js';
import type { UpdateSteps } from './steps.js';

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
  /** Shows download and apply progress to whoever watches the daemon (a live line, or milestone log lines). */
  readonly progress?: ProgressSink;
  /** The operator's hooks and maintenance window. @default APPLY_EVERYTHING */
  readonly policy?: UpdatePolicy;
  /** Told about every stage and result, for the local status file. */
  readonly observer?: UpdateObserver;
  /** @default SERVER_KEYS_WAIT_MS */
  readonly keysWaitMs?: number;
  /** @default DEPLOYMENT_REOFFER_GRACE_MS */
  readonly deploymentReofferGraceMs?: number;
  readonly now?: () => number;
}

/** Where an update stands, for whoever shows it (the status file). */
export interface UpdateObserver {
  stage(update: UpdateFacts, stage: UpdateStage, percent?: number): void;
  result(update: UpdateFacts, status: ResultStatus, reason?: string): void;
  /** The update stopped without a status. */
  dropped(): void;
  nextAttempt(
    attempt: { update: UpdateFacts; at?: number; localRetryAt?: number; note: string } | undefined,
  ): void;
}

type Phase =
  | 'idle'
  | 'deciding'
  | 'before-download'
  | 'awaiting-keys'
  | 'downloading'
  | 'verifying'
  | 'before-apply'
  | 'applying'
  | 'after-apply'
  | 'applied';

/** An offer answered with `rescheduled` that the device will ask about again with the offer it has. */
interface Deferred {
  readonly offer: UpdateOffer;
  readonly facts: UpdateFacts;
  /** When the server sent it: its URL is valid for 24 h from about then. */
  readonly receivedAt: number;
  readonly timer: NodeJS.Timeout;
}

const NO_OBSERVER: UpdateObserver = { stage() {}, result() {}, dropped() {}, nextAttempt() {} };

const STOPPED = Symbol('stopped');

/**
 * One update at a time: offer → received → the operator's decision (maintenance window, hooks.update_available)
 * → before_download → download (`started` per connection, progress) → verify → before_apply → apply (progress)
 * → completed → after_apply. A failure is reported with its reason, the file is removed, and the daemon stays
 * ready for the next offer. A decision to wait is reported as `rescheduled` with `delay_for`, and the device asks
 * again when the time comes, unless the server offers something first. A stop before the apply reports nothing:
 * NervesHub offers the update again after the restart, and no attempt is counted against the device.
 */
export class UpdateManager {
  readonly #options: UpdateManagerOptions;
  readonly #now: () => number;
  readonly #policy: UpdatePolicy;
  readonly #observer: UpdateObserver;
  #phase: Phase = 'idle';
  #current: UpdateOffer | undefined;
  #facts: UpdateFacts | undefined;
  #deferred: Deferred | undefined;
  /** Hooks told about a failure, still running: a stop waits for them. */
  readonly #background = new Set<Promise<void>>();
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
    this.#policy = options.policy ?? APPLY_EVERYTHING;
    this.#observer = options.observer ?? NO_OBSERVER;
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

  /** Whether fwup is writing now, or after_apply runs (a reboot or shutdown must wait for it). */
  get isApplying(): boolean {
    return this.#phase === 'applying' || this.#phase === 'after-apply';
  }

  /**
   * Whether a stop now would interrupt an update before fwup writes (its decision, download, checks or a hook
   * before them); apply is never interrupted.
   */
  get isDownloading(): boolean {
    return (
      this.#phase === 'deciding' ||
      this.#phase === 'before-download' ||
      this.#phase === 'awaiting-keys' ||
      this.#phase === 'downloading' ||
      this.#phase === 'verifying' ||
      this.#phase === 'before-apply'
    );
  }

  /** The update whose firmware is written and waits for the reboot, if any. */
  get applied(): UpdateFacts | undefined {
    return this.#phase === 'applied' ? this.#facts : undefined;
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
    if (this.#phase === 'applied') {
      // Writing another firmware now would overwrite the slot the next boot is to start.
      const written = this.#current?.uuid;
      reporter.status('received');
      this.#reportFinal(offer.uuid, 'ignored', {
        reason: `firmware ${written} is written and runs after the next reboot; no other update until then`,
      });
      logger.info(`update ${offer.uuid} ignored: firmware ${written} waits for the reboot`);
      return;
    }
    if (this.#phase !== 'idle') {
      // A status here would land on the record of the update that is running.
      logger.info(`update ${offer.uuid} ignored: update ${this.#current?.uuid} is in progress`);
      return;
    }
    const facts = updateFacts(offer, payload);
    // Whatever the server offers now replaces an offer the device was going to ask about again.
    this.#cancelDeferred();
    if (offer.uuid === runningUuid) {
      const reason = `firmware ${offer.uuid} is already running`;
      reporter.status('received');
      this.#reportFinal(offer.uuid, 'ignored', { reason });
      this.#observer.result(facts, 'ignored', reason);
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
      this.#observer.result(facts, 'rescheduled', reason);
      this.#observer.nextAttempt({
        update: facts,
        ...(facts.deploymentId !== undefined ? { at: this.#now() + REPEATED_FAILURES.rescheduleMs } : {}),
        note: 'after repeated failures the device waits for NervesHub to offer the update again',
      });
      logger.warn(`update ${offer.uuid} rescheduled: ${reason}`);
      return;
    }
    this.#start(offer, facts, this.#now());
  }

  /** The server sent fwup public keys: an offer waiting for them goes on. */
  keysChanged(): void {
    this.#keysArrived?.();
  }

  /**
   * Stops an update before fwup writes (a running hook is killed, a download deleted, no status is sent); waits
   * for a running fwup and after_apply to finish. A rescheduled offer is not asked about again.
   */
  async shutdown(): Promise<void> {
    this.#closed = true;
    this.#cancelDeferred();
    this.#abort?.abort(STOPPED);
    await this.#running;
    await Promise.all(this.#background);
  }

  #start(offer: UpdateOffer, facts: UpdateFacts, receivedAt: number): void {
    this.#current = offer;
    this.#facts = facts;
    this.#abort = new AbortController();
    this.#setPhase('deciding');
    this.#options.reporter.reset();
    // First, whatever the decision: NervesHub counts the attempt on the first status of an offer.
    this.#options.reporter.status('received');
    this.#running = this.#run(offer, facts, receivedAt, this.#abort.signal).finally(() => {
      this.#running = undefined;
      this.#abort = undefined;
    });
  }

  #setPhase(phase: Exclude<Phase, 'idle'>, percent?: number): void {
    this.#phase = phase;
    if (this.#facts) {
      this.#observer.stage(this.#facts, phase === 'applied' ? 'awaiting-reboot' : phase, percent);
    }
  }

  async #run(offer: UpdateOffer, facts: UpdateFacts, receivedAt: number, signal: AbortSignal): Promise<void> {
    const { steps, reporter, logger } = this.#options;
    let path: string | undefined;
    try {
      const decision = await this.#policy.decide(facts, signal);
      if (signal.aborted) throw signal.reason;
      if (decision.kind === 'ignore') {
        this.#phase = 'idle';
        this.#reportFinal(offer.uuid, 'ignored', { reason: decision.reason });
        this.#observer.result(facts, 'ignored', decision.reason);
        logger.info(`update ${describeUpdate(facts)} ignored: ${decision.reason}`);
        return;
      }
      if (decision.kind === 'reschedule') {
        this.#defer(offer, facts, receivedAt, decision.delayMs, decision.reason);
        return;
      }
      this.#setPhase('before-download');
      const beforeDownload = await this.#policy.beforeDownload(facts, signal);
      if (signal.aborted) throw signal.reason;
      if (this.#stoppedBy(beforeDownload, offer, facts, receivedAt)) return;
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
      this.#setPhase('downloading');
      logger.info(`update ${offer.uuid}${offer.version ? ` (${offer.version})` : ''}: downloading`, {
        size: offer.size,
      });
      this.#options.progress?.start('download', { uuid: offer.uuid, totalBytes: offer.size });
      path = await steps.download(offer, {
        signal,
        onProgress: (percent, bytes) => {
          this.#options.progress?.update('download', { percent, bytes });
          if (percent === undefined) return;
          reporter.progress('downloading', percent);
          this.#setPhase('downloading', Math.floor(percent));
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
      this.#options.progress?.end('download', 'done');
      this.#setPhase('verifying');
      logger.info(`update ${offer.uuid}: verifying`);
      await steps.verify(path, { signal });
      if (signal.aborted) throw signal.reason;
      this.#setPhase('before-apply');
      const beforeApply = await this.#policy.beforeApply(facts, path, signal);
      if (signal.aborted) throw signal.reason;
      if (beforeApply.kind !== 'continue') {
        await steps.discard(path);
        path = undefined;
        if (this.#stoppedBy(beforeApply, offer, facts, receivedAt)) return;
      }
      this.#setPhase('applying', 0);
      logger.info(`update ${offer.uuid}: applying`);
      this.#options.progress?.start('apply', { uuid: offer.uuid, totalBytes: offer.size });
      await steps.apply(path!, {
        onProgress: (percent) => {
          this.#options.progress?.update('apply', { percent });
          reporter.progress('updating', percent);
          this.#setPhase('applying', Math.floor(percent));
        },
      });
      this.#phase = 'after-apply';
      reporter.progress('updating', 100);
      this.#options.progress?.end('apply', 'done');
      this.#reportFinal(offer.uuid, 'completed');
      this.#observer.result(facts, 'completed');
      this.#failures.delete(offer.uuid);
      logger.info(`update ${offer.uuid}: completed`);
      await steps.discard(path!);
      this.#setPhase('after-apply');
      await this.#policy.afterApply(facts);
      this.#setPhase('applied');
      this.#options.onApplied(offer);
    } catch (error) {
      this.#options.progress?.cancel();
      if (path) await steps.discard(path);
      this.#phase = 'idle';
      if (signal.aborted) {
        // No status: `failed` would cost the device its updates for the penalty time. The next start joins
        // without an in-flight uuid, which clears the server's record and brings the offer again.
        this.#observer.dropped();
        logger.warn(
          `update ${offer.uuid} stopped: the daemon is shutting down; the download was removed and NervesHub will offer the update again`,
        );
        return;
      }
      this.#fail(offer, classifyFailure(error, offer.firmwareUrl));
    }
  }

  /** True when a step before the download or the apply ended the update (failed or rescheduled). */
  #stoppedBy(result: PreparationResult, offer: UpdateOffer, facts: UpdateFacts, receivedAt: number): boolean {
    if (result.kind === 'continue') return false;
    this.#phase = 'idle';
    if (result.kind === 'fail') this.#fail(offer, { reason: result.reason });
    else this.#defer(offer, facts, receivedAt, result.delayMs, result.reason);
    return true;
  }

  /**
   * Answers `rescheduled` with `delay_for`, and asks again about the same offer when the time comes, unless the
   * server offers something first. NervesHub blocks a deployment's device until then and offers the update again
   * afterwards; it never re-offers a manual push, so for that the device's own re-ask is the only one.
   */
  #defer(offer: UpdateOffer, facts: UpdateFacts, receivedAt: number, delayMs: number, reason: string): void {
    const { logger } = this.#options;
    this.#phase = 'idle';
    this.#reportFinal(offer.uuid, 'rescheduled', { delay_for: delayMs, reason });
    this.#observer.result(facts, 'rescheduled', reason);
    const now = this.#now();
    const deployment = facts.deploymentId !== undefined;
    const graceMs = deployment ? (this.#options.deploymentReofferGraceMs ?? DEPLOYMENT_REOFFER_GRACE_MS) : 0;
    const localRetryAt = now + delayMs + graceMs;
    const due = deployment ? { at: now + delayMs } : {};
    if (localRetryAt - receivedAt > OFFER_REUSE_LIMIT_MS) {
      const note = deployment
        ? 'NervesHub offers it again once the block ends (the firmware link of this offer expires before that)'
        : 'the firmware link of this manual push expires before then: push it again after that time';
      this.#observer.nextAttempt({ update: facts, at: now + delayMs, note });
      logger.info(
        `update ${describeUpdate(facts)} rescheduled for ${formatDuration(delayMs)}: ${reason}; ${note}`,
      );
      return;
    }
    const timer = setTimeout(() => this.#askAgain(), localRetryAt - now);
    timer.unref();
    this.#deferred = { offer, facts, receivedAt, timer };
    const note = deployment
      ? `NervesHub offers it again once the block ends; the device asks again itself ${formatDuration(graceMs)} later if it has not`
      : 'the device asks again itself (NervesHub does not offer a manual push again)';
    this.#observer.nextAttempt({ update: facts, ...due, localRetryAt, note });
    logger.info(`update ${describeUpdate(facts)} rescheduled for ${formatDuration(delayMs)}: ${reason}`);
  }

  #askAgain(): void {
    const deferred = this.#deferred;
    this.#deferred = undefined;
    if (!deferred || this.#closed || this.#phase !== 'idle') return;
    this.#options.logger.info(`update ${describeUpdate(deferred.facts)}: asking again, as rescheduled`);
    this.#start(deferred.offer, deferred.facts, deferred.receivedAt);
  }

  #cancelDeferred(): void {
    if (!this.#deferred) return;
    clearTimeout(this.#deferred.timer);
    this.#deferred = undefined;
    this.#observer.nextAttempt(undefined);
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
    this.#setPhase('awaiting-keys');
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
    // Forget every firmware whose failures are all older than the window, so the map stays as small as the window.
    for (const uuid of [...this.#failures.keys()]) this.#recentFailures(uuid);
    this.#failures.set(offer.uuid, [...this.#recentFailures(offer.uuid), this.#now()]);
    const facts = this.#facts?.uuid === offer.uuid ? this.#facts : { uuid: offer.uuid };
    this.#observer.result(facts, 'failed', failure.reason);
    const told = this.#policy.onError(facts, failure.reason).finally(() => this.#background.delete(told));
    this.#background.add(told);
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
