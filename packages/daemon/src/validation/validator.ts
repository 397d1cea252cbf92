/**
 * Finishing an update after the reboot: an unvalidated firmware is marked good once it has proven itself
 * (`validation.command`, after the first join of NervesHub and a passing `validation.health_check`), or rolled back
 * (`validation.revert_command`, then the reboot) when `validation.deadline` passes first. The reference client
 * leaves both to the application (nerves_hub_link only reports `firmware_validated` and polls every 10 s,
 * lib/nerves_hub_link/socket.ex); on a device without one, nothing else would.
 */

import { REASON_MAX_CHARS, shown } from '@nerves-hub-link/message-text';
import type { ValidationConfig } from '../config/sections/validation.js';
import { boundDelay, DELAY_USES } from '../config/values/delay-bounds.js';
import { formatDuration } from '../config/values/duration.js';
import type { Logger } from '../log/logger.js';
import type { UpdateFacts } from '../update/facts.js';
import type { UpdateOffer } from '../update/offer.js';
import type { OfferVerdict } from '../update/offer-gate.js';
import { type BootClock, systemBootClock } from './boot-clock.js';
import { SAVE_INTERVAL_MS, UnvalidatedTime } from './unvalidated-time.js';
import type { RevertRecord, ValidationFile, ValidationFileContent } from './validation-file.js';

/** How often a failing health check or validation command is tried again, and the validation state re-read. */
export const VALIDATION_RETRY_MS = 10_000;
/** An offer while the device goes back to its previous firmware is asked again after this long. */
const WHILE_REVERTING_DELAY_MS = 10 * 60_000;
/** An offer while the firmware is unvalidated and no deadline is set is asked again after this long. */
const UNVALIDATED_DELAY_MS = 10 * 60_000;
/** A timer never waits longer than this at once (setTimeout overflows past 2^31 − 1 ms); it waits again. */
const LONGEST_TIMER_MS = 86_400_000;

export interface FirmwareRef {
  readonly uuid: string;
  readonly version?: string | undefined;
}

/** The validation state as the status file and `nerves-hub-link status` show it. */
export interface ValidationStatus {
  readonly state: 'validated' | 'not-validated' | 'unknown' | 'reverting' | 'revert-failed';
  /** How the firmware gets validated: by the daemon once connected, by hand, or by someone else (only reported). */
  readonly policy: 'connected' | 'manual' | 'report';
  /** The daemon's first start on this unvalidated firmware (ISO 8601). */
  readonly unvalidated_since: string | null;
  /** When the firmware is rolled back if it is still not validated (ISO 8601, estimated on the wall clock). */
  readonly revert_at: string | null;
  /** What happens next, in words. */
  readonly note: string;
  readonly last_revert: Omit<RevertRecord, 'offer_answered'> | null;
}

export interface FirmwareValidatorOptions {
  readonly config: ValidationConfig;
  /** The firmware running now. */
  readonly firmware: FirmwareRef | undefined;
  /** What the bootloader environment said at start. */
  readonly validated: boolean | undefined;
  /** The bootloader went back from this firmware by itself (its slot never validated, nerves_hub_link's check). */
  readonly bootloaderReverted?: FirmwareRef | undefined;
  readonly file: ValidationFile;
  readonly logger: Logger;
  /** Reads the validation state again; `detail` says what the environment says, for messages. */
  readonly readState: () => Promise<{ readonly validated: boolean | undefined; readonly detail: string }>;
  /** Runs a configured command; rejects with a message saying why (not found, exit status and stderr, time-out). */
  readonly runCommand: (argv: readonly string[]) => Promise<unknown>;
  /** Tells NervesHub: `firmware_validated`. */
  readonly reportValidated: () => void;
  /** Reboots the way updates.reboot_policy says. */
  readonly reboot: (why: string) => void;
  readonly onChange?: (status: ValidationStatus) => void;
  readonly clock?: BootClock;
  /** Wall clock, for dates people read. @default Date.now */
  readonly now?: () => number;
  /** @default an unref'd setTimeout; returns its cancel */
  readonly setTimer?: (callback: () => void, ms: number) => () => void;
  /** How often the count is saved while it runs. @default SAVE_INTERVAL_MS */
  readonly saveIntervalMs?: number;
}

type Phase = 'idle' | 'checking' | 'reverting' | 'reverted' | 'revert-failed';

export class FirmwareValidator {
  readonly #options: FirmwareValidatorOptions;
  readonly #config: ValidationConfig;
  readonly #now: () => number;
  readonly #setTimer: (callback: () => void, ms: number) => () => void;
  readonly #timers = new Map<'deadline' | 'retry' | 'poll' | 'save', () => void>();
  #validated: boolean | undefined;
  #count: UnvalidatedTime | undefined;
  #lastRevert: RevertRecord | undefined;
  #phase: Phase = 'idle';
  #joined = false;
  #stopped = false;
  /** The last failing health check's output, or the validation command's problem: for the revert's reason. */
  #lastProblem: { readonly kind: 'health' | 'command'; readonly text: string } | undefined;
  #revertProblem: string | undefined;
  /** The deadline came while a try was running: it is handled when the try ends. */
  #deadlineDue = false;

  constructor(options: FirmwareValidatorOptions) {
    this.#options = options;
    this.#config = options.config;
    this.#now = options.now ?? Date.now;
    this.#setTimer = options.setTimer ?? unrefTimer;
    this.#validated = options.validated;
  }

  /** The validation state to report at the next join (`meta.firmware_validated`). */
  get validated(): boolean | undefined {
    return this.#validated;
  }

  /** True when the daemon acts on an unvalidated firmware (validates, reverts, holds offers back). */
  get active(): boolean {
    return this.#config.command !== undefined || this.#config.deadlineMs !== undefined;
  }

  /** At the daemon's start: picks up the count and the last revert, starts the deadline. */
  start(): void {
    const { file, logger, firmware } = this.#options;
    const { content, problem } = file.read();
    if (problem) logger.warn(`${problem}; starting the validation record afresh`);
    this.#lastRevert = content.last_revert;
    this.#noteBootloaderRevert(content);
    if (this.#validated === false && firmware) {
      this.#count = new UnvalidatedTime(firmware.uuid, content.unvalidated, this.#clock, this.#now());
      if (this.#config.deadlineMs !== undefined) this.#armDeadline();
      this.#every('save', this.#options.saveIntervalMs ?? SAVE_INTERVAL_MS, () => this.#save());
      logger.info(`the running firmware ${describe(firmware)} is not validated: ${this.#planWithDeadline()}`);
    }
    this.#save();
  }

  /** Every successful join: the first one on an unvalidated firmware starts its validation. */
  joined(): void {
    if (this.#stopped || this.#validated !== false) return;
    this.#joined = true;
    this.#every('poll', VALIDATION_RETRY_MS, () => void this.#poll());
    if (this.#config.when === 'connected' && this.#config.command) void this.#attempt();
  }

  /** The daemon stops: nothing runs any more; the count is saved. */
  stop(): void {
    this.#stopped = true;
    for (const cancel of this.#timers.values()) cancel();
    this.#timers.clear();
    this.#save();
  }

  /**
   * What an offer gets before anything else is asked: the first offer of a firmware rolled back is ignored with
   * why (NervesHub's penalty box then keeps it from coming straight back); while the device goes back, or while
   * the running firmware is unvalidated, writing the other slot would overwrite the only known-good firmware.
   */
  offerVerdict(offer: UpdateOffer, facts: UpdateFacts): OfferVerdict | undefined {
    const reverted = this.#lastRevert;
    if (reverted && !reverted.offer_answered && offer.uuid === reverted.uuid) {
      this.#lastRevert = { ...reverted, offer_answered: true };
      this.#save();
      const reason = shown(
        `firmware ${describe(reverted)} was rolled back on ${humanDate(reverted.at)}: ${reverted.reason}`,
        REASON_MAX_CHARS,
      );
      return this.#answered('ignored', reason, `update ${offer.uuid} ignored: it was rolled back`);
    }
    const running = this.#options.firmware;
    if (!running) return undefined;
    if (this.#phase === 'reverting' || this.#phase === 'reverted') {
      const reason =
        `firmware ${describe(running)} is being rolled back: the device goes back to its previous firmware at ` +
        `the next reboot; asking to be offered ${offer.uuid} again in ${formatDuration(WHILE_REVERTING_DELAY_MS)}`;
      return this.#answered('rescheduled', reason, `update ${offer.uuid} rescheduled: ${reason}`, {
        delayMs: WHILE_REVERTING_DELAY_MS,
        facts,
      });
    }
    if (this.#validated !== false || !this.active) return undefined;
    const remaining = this.#remainingMs();
    // Within the floor and ceiling of every reschedule (the update manager applies them too), so the reason says
    // the delay that is sent.
    const delayMs = boundDelay(
      remaining === undefined
        ? UNVALIDATED_DELAY_MS
        : Math.min(Math.max(remaining + 60_000, 60_000), LONGEST_TIMER_MS),
      DELAY_USES.offer,
    ).ms;
    const reason =
      `firmware ${describe(running)} is not validated yet: writing the other slot now would overwrite the only ` +
      `known-good firmware; it ${this.#planWithDeadline()}; asking to be offered ${offer.uuid} again in ${formatDuration(delayMs)}`;
    return this.#answered('rescheduled', reason, `update ${offer.uuid} rescheduled: ${reason}`, {
      delayMs,
      facts,
    });
  }

  status(): ValidationStatus {
    const policy = this.#config.command ? this.#config.when : 'report';
    const lastRevert = this.#lastRevert
      ? {
          uuid: this.#lastRevert.uuid,
          version: this.#lastRevert.version,
          at: this.#lastRevert.at,
          reason: this.#lastRevert.reason,
          by: this.#lastRevert.by,
        }
      : null;
    const remaining = this.#remainingMs();
    const revertAt = remaining === undefined ? null : new Date(this.#now() + remaining).toISOString();
    const base = {
      policy,
      unvalidated_since: this.#count?.firstStartedAt ?? null,
      revert_at: this.#validated === false && this.#phase === 'idle' ? revertAt : null,
      last_revert: lastRevert,
    } as const;
    if (this.#phase === 'reverting' || this.#phase === 'reverted') {
      return {
        ...base,
        state: 'reverting',
        revert_at: null,
        note: 'rolled back; the previous firmware starts at the next reboot',
      };
    }
    if (this.#phase === 'revert-failed') {
      return {
        ...base,
        state: 'revert-failed',
        revert_at: null,
        note: `the roll-back failed: ${this.#revertProblem}`,
      };
    }
    if (this.#validated === true) return { ...base, state: 'validated', note: 'validated' };
    if (this.#validated === undefined) {
      return {
        ...base,
        state: 'unknown',
        note: 'the bootloader environment does not say (NervesHub counts it as validated)',
      };
    }
    return { ...base, state: 'not-validated', note: this.#plan() };
  }

  get #clock(): BootClock {
    return this.#options.clock ?? systemBootClock;
  }

  /** What validates this firmware. */
  #plan(): string {
    const { command, when, healthCheck } = this.#config;
    if (!command)
      return 'waits to be validated by the device itself (no validation.command: the daemon only reports it)';
    if (when === 'manual') return 'validates with `nerves-hub-link validate` (validation.when = "manual")';
    const joined = this.#joined ? '' : 'the first join of NervesHub and ';
    return `validates after ${joined}${healthCheck ? 'a passing health check' : 'validation.command'}`;
  }

  /** What validates this firmware, and when it is rolled back otherwise: for the log and for reasons. */
  #planWithDeadline(): string {
    const remaining = this.#remainingMs();
    if (remaining === undefined) return this.#plan();
    const at = new Date(this.#now() + remaining).toISOString();
    return `${this.#plan()}; reverts at ${humanDate(at)} (in ${formatDuration(remaining)})`;
  }

  #remainingMs(): number | undefined {
    const { deadlineMs } = this.#config;
    if (deadlineMs === undefined || !this.#count) return undefined;
    return Math.max(0, deadlineMs - this.#count.elapsedMs());
  }

  /**
   * A firmware the bootloader went back from, noted once: the daemon was counting it when the device went back, or
   * no revert of it is on record at all.
   */
  #noteBootloaderRevert(content: ValidationFileContent): void {
    const { bootloaderReverted: reverted, firmware, logger } = this.#options;
    if (!reverted || reverted.uuid === firmware?.uuid) return;
    const wasCounting = content.unvalidated?.uuid === reverted.uuid;
    if (!wasCounting && this.#lastRevert?.uuid === reverted.uuid) return;
    this.#lastRevert = {
      uuid: reverted.uuid,
      version: reverted.version ?? null,
      at: new Date(this.#now()).toISOString(),
      reason:
        'the bootloader went back to the previous firmware because it was not validated in time (boot count)',
      by: 'bootloader',
      offer_answered: false,
    };
    logger.warn(
      `firmware ${describe(reverted)} was rolled back by the bootloader: it was not validated in time`,
    );
  }

  /** One try: the health check, the validation command, then the environment read again. */
  async #attempt(): Promise<void> {
    const { config, logger, runCommand, readState } = { ...this.#options, config: this.#config };
    if (this.#stopped || this.#validated !== false || this.#phase !== 'idle' || !config.command) return;
    this.#phase = 'checking';
    this.#cancel('retry');
    try {
      if (config.healthCheck) {
        try {
          await runCommand(config.healthCheck);
        } catch (error) {
          this.#lastProblem = { kind: 'health', text: (error as Error).message };
          logger.warn(
            `validation.health_check failed: ${(error as Error).message}; trying again in ${formatDuration(VALIDATION_RETRY_MS)}`,
          );
          return;
        }
      }
      try {
        await runCommand(config.command);
      } catch (error) {
        this.#lastProblem = {
          kind: 'command',
          text: `validation.command failed: ${(error as Error).message}`,
        };
        logger.error(`${this.#lastProblem.text}; trying again in ${formatDuration(VALIDATION_RETRY_MS)}`);
        return;
      }
      const state = await readState();
      if (state.validated !== false) {
        this.#markValidated('validation.command');
        return;
      }
      this.#lastProblem = {
        kind: 'command',
        text: `validation.command (${config.command.join(' ')}) ran, but the firmware still reads unvalidated: ${state.detail}`,
      };
      logger.error(`${this.#lastProblem.text}; trying again in ${formatDuration(VALIDATION_RETRY_MS)}`);
    } catch (error) {
      logger.warn(`could not read the firmware validation state: ${(error as Error).message}`);
    } finally {
      if (this.#phase === 'checking') this.#phase = 'idle';
      if (this.#deadlineDue) void this.#deadlinePassed();
      else if (!this.#stopped && this.#validated === false && this.#phase === 'idle') {
        this.#after('retry', VALIDATION_RETRY_MS, () => void this.#attempt());
      }
      this.#changed();
    }
  }

  /** Someone else may validate it (the application, `nerves-hub-link validate`): notice within the poll. */
  async #poll(): Promise<void> {
    if (this.#stopped || this.#validated !== false || this.#phase !== 'idle') return;
    try {
      const state = await this.#options.readState();
      if (state.validated !== false && this.#validated === false && this.#phase === 'idle') {
        this.#markValidated('outside the daemon');
      }
    } catch (error) {
      this.#options.logger.warn(`could not read the firmware validation state: ${(error as Error).message}`);
    }
  }

  #markValidated(by: string): void {
    const { firmware, logger, reportValidated } = this.#options;
    this.#validated = true;
    this.#count = undefined;
    this.#lastProblem = undefined;
    for (const name of ['deadline', 'retry', 'poll', 'save'] as const) this.#cancel(name);
    this.#save();
    reportValidated();
    logger.info(
      `the running firmware ${firmware ? describe(firmware) : ''} is validated (${by}); told NervesHub`,
    );
    this.#changed();
  }

  #armDeadline(): void {
    const remaining = this.#remainingMs();
    if (remaining === undefined) return;
    this.#after('deadline', Math.min(remaining, LONGEST_TIMER_MS), () => {
      if ((this.#remainingMs() ?? 0) > 0) this.#armDeadline();
      else void this.#deadlinePassed();
    });
  }

  async #deadlinePassed(): Promise<void> {
    if (this.#stopped || this.#validated !== false) return;
    if (this.#phase === 'checking') {
      this.#deadlineDue = true;
      return;
    }
    this.#deadlineDue = false;
    try {
      const state = await this.#options.readState();
      if (state.validated !== false) {
        this.#markValidated('outside the daemon');
        return;
      }
    } catch {
      // Cannot tell: the deadline still holds.
    }
    await this.#revert(this.#revertReason());
  }

  #revertReason(): string {
    const within = formatDuration(this.#config.deadlineMs ?? 0);
    if (!this.#joined) return `it did not reach NervesHub within ${within}`;
    const problem = this.#lastProblem;
    if (problem?.kind === 'health') {
      return shown(
        `its health check (validation.health_check) was still failing after ${within}: ${problem.text}`,
        REASON_MAX_CHARS,
      );
    }
    if (problem?.kind === 'command') {
      return shown(`it could not be validated within ${within}: ${problem.text}`, REASON_MAX_CHARS);
    }
    if (this.#config.when === 'manual' || !this.#config.command) {
      return `it was not validated within ${within} (nothing ran \`nerves-hub-link validate\` or validated it otherwise)`;
    }
    return `it was not validated within ${within}`;
  }

  async #revert(reason: string): Promise<void> {
    const { firmware, logger, runCommand, reboot } = this.#options;
    const { revertCommand } = this.#config;
    if (!firmware || !revertCommand || this.#stopped) return;
    this.#phase = 'reverting';
    for (const name of ['retry', 'poll'] as const) this.#cancel(name);
    const previous = this.#lastRevert;
    this.#lastRevert = {
      uuid: firmware.uuid,
      version: firmware.version ?? null,
      at: new Date(this.#now()).toISOString(),
      reason,
      by: 'daemon',
      offer_answered: false,
    };
    this.#changed();
    logger.warn(`rolling back firmware ${describe(firmware)}: ${reason}`);
    try {
      await runCommand(revertCommand);
    } catch (error) {
      this.#lastRevert = previous;
      this.#phase = 'revert-failed';
      this.#revertProblem = `validation.revert_command (${revertCommand.join(' ')}) failed: ${(error as Error).message}`;
      logger.error(`${this.#revertProblem}; the device stays on firmware ${describe(firmware)}`);
      this.#save();
      this.#changed();
      return;
    }
    this.#phase = 'reverted';
    this.#count = undefined;
    this.#cancel('save');
    this.#save();
    this.#changed();
    reboot(`firmware ${describe(firmware)} was rolled back: ${reason}`);
  }

  #answered(
    status: 'ignored' | 'rescheduled',
    reason: string,
    message: string,
    reschedule?: { readonly delayMs: number; readonly facts: UpdateFacts },
  ): OfferVerdict {
    return {
      kind: 'answered',
      status,
      reason,
      ...(reschedule
        ? {
            delayMs: reschedule.delayMs,
            ...(reschedule.facts.deploymentId !== undefined
              ? {
                  nextAttempt: {
                    update: reschedule.facts,
                    at: this.#now() + reschedule.delayMs,
                    note: 'NervesHub offers it again once its block ends',
                  },
                }
              : {}),
          }
        : {}),
      log: { level: status === 'ignored' ? 'warn' : 'info', message },
    };
  }

  #save(): void {
    try {
      this.#options.file.write({
        ...(this.#count ? { unvalidated: this.#count.snapshot() } : {}),
        ...(this.#lastRevert ? { last_revert: this.#lastRevert } : {}),
      });
    } catch (error) {
      this.#options.logger.warn(
        `could not write ${this.#options.file.path}: ${(error as Error).message}; a restart may count the validation deadline from then`,
      );
    }
  }

  #changed(): void {
    this.#options.onChange?.(this.status());
  }

  #after(name: 'deadline' | 'retry' | 'poll' | 'save', ms: number, callback: () => void): void {
    this.#cancel(name);
    this.#timers.set(
      name,
      this.#setTimer(() => {
        this.#timers.delete(name);
        callback();
      }, ms),
    );
  }

  #every(name: 'poll' | 'save', ms: number, callback: () => void): void {
    if (this.#timers.has(name)) return;
    this.#after(name, ms, () => {
      callback();
      if (!this.#stopped && this.#validated === false) this.#every(name, ms, callback);
    });
  }

  #cancel(name: 'deadline' | 'retry' | 'poll' | 'save'): void {
    this.#timers.get(name)?.();
    this.#timers.delete(name);
  }
}

function describe(firmware: { readonly uuid: string; readonly version?: string | null | undefined }): string {
  return firmware.version ? `${firmware.uuid} (${firmware.version})` : firmware.uuid;
}

/** `2026-12-07 15:40 UTC`. */
function humanDate(iso: string): string {
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? iso : `${date.toISOString().slice(0, 16).replace('T', ' ')} UTC`;
}

function unrefTimer(callback: () => void, ms: number): () => void {
  const timer = setTimeout(callback, ms);
  timer.unref();
  return () => clearTimeout(timer);
}
