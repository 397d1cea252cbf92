import { shownTail } from '@nerves-hub-link/message-text';
import type { HooksConfig } from '../config/sections/hooks.js';
import type { UpdatesConfig } from '../config/sections/updates.js';
import { formatDuration } from '../config/values/duration.js';
import { formatLocalTime, windowState, zoneName } from '../config/values/maintenance-window.js';
import type { Logger } from '../log/logger.js';
import { REASON_PREFIX } from '../update/constants.js';
import type { RunningFirmware, UpdateFacts } from '../update/facts.js';
import type { PreparationResult, UpdateDecision, UpdatePolicy } from '../update/policy.js';
import { type HookContext, hookEnvironment, hookInput } from './hook-context.js';
import {
  type HookFailure,
  interpretBeforeReboot,
  interpretPreparation,
  interpretUpdateAvailable,
  type RebootDecision,
} from './hook-protocol.js';
import {
  describeOutcome,
  type HookName,
  type HookOutcome,
  type HookRequest,
  runHook,
} from './hook-runner.js';
import { NewestWaiting } from './newest-waiting.js';

/**
 * At a stop, how long a hook that is only told something (on_error, after_apply, before_reboot when it is not
 * asked) may go on before its group is stopped like a timed-out hook (SIGTERM, SIGKILL 2 s later). A hook that
 * decides is stopped at once: its answer no longer matters.
 */
export const OBSERVER_STOP_WAIT_MS = 3_000;

/** How much of a told hook's output (its end) a warning shows. */
const OUTPUT_IN_WARNING_CHARS = 160;

export interface OperatorPolicyOptions {
  readonly hooks: HooksConfig;
  readonly updates: UpdatesConfig;
  readonly identifier: string;
  readonly running: RunningFirmware;
  readonly logger: Logger;
  readonly now?: () => number;
  /** In [0, 1): the share of the window spread used for one offer. */
  readonly random?: () => number;
  readonly runHook?: (request: HookRequest) => Promise<HookOutcome>;
}

type Context = Omit<HookContext, 'hook' | 'identifier' | 'running'>;

/**
 * `[updates]` windows and `[hooks]`, as configured. At most one instance of each hook runs at a time: the hooks of
 * an update run one after the other (one update at a time), before_reboot once per reboot decision (the reboot
 * planner folds requests while it asks), and on_error, told of every failure, runs one at a time with the newest
 * failure waiting (older ones waiting are dropped, and counted in a log line).
 */
export class OperatorPolicy implements UpdatePolicy {
  readonly #options: OperatorPolicyOptions;
  readonly #now: () => number;
  readonly #random: () => number;
  readonly #runHook: (request: HookRequest) => Promise<HookOutcome>;
  /** Each hook's last run, which the next one of the same name waits for: never two at once. */
  readonly #lanes = new Map<HookName, Promise<unknown>>();
  /** Every hook running now, for `stop`. */
  readonly #running = new Set<Promise<HookOutcome>>();
  /** Aborted at `stop`: the hooks that decide end at once. */
  readonly #stopping = new AbortController();
  /** Aborted OBSERVER_STOP_WAIT_MS after `stop`: the hooks that are only told end then. */
  readonly #observersStopping = new AbortController();
  readonly #onError: NewestWaiting<{ readonly update: UpdateFacts; readonly reason: string }>;
  #rebootHookFailures = 0;

  constructor(options: OperatorPolicyOptions) {
    this.#options = options;
    this.#now = options.now ?? Date.now;
    this.#random = options.random ?? Math.random;
    this.#runHook = options.runHook ?? runHook;
    this.#onError = new NewestWaiting(
      (failure) => this.#notify('on_error', options.hooks.onError, failure),
      (skipped) =>
        options.logger.info(
          `hooks.on_error not told about the failure of update ${skipped.update.uuid}: a newer failure replaced it while the hook ran`,
        ),
    );
  }

  async decide(update: UpdateFacts, signal: AbortSignal): Promise<UpdateDecision> {
    const deferral = this.#outsideWindow();
    if (deferral) return deferral;
    const { hooks, logger } = this.#options;
    const command = hooks.updateAvailable;
    if (!command) return { kind: 'apply' };
    const outcome = await this.#run('update_available', command, { update }, signal);
    if (outcome.kind === 'aborted') return { kind: 'apply' }; // the caller sees the abort and stops
    const decision = interpretUpdateAvailable(outcome, {
      timeoutMs: hooks.timeoutMs,
      defaultDelayMs: hooks.rescheduleDelayMs,
    });
    if (decision.kind === 'reschedule') this.#logRescheduled('update_available', decision);
    if (decision.kind !== 'hook-failed') return decision;
    if (hooks.onHookFailure === 'apply') {
      logger.warn(`${decision.problem}; applying the update (hooks.on_hook_failure = "apply")`);
      return { kind: 'apply' };
    }
    const delay = formatDuration(hooks.rescheduleDelayMs);
    logger.warn(`${decision.problem}; asking again in ${delay} (hooks.on_hook_failure = "reschedule")`);
    return {
      kind: 'reschedule',
      delayMs: hooks.rescheduleDelayMs,
      reason: `${decision.problem}; rescheduled for ${delay} by hooks.on_hook_failure`,
    };
  }

  beforeDownload(update: UpdateFacts, signal: AbortSignal): Promise<PreparationResult> {
    return this.#prepare('before_download', this.#options.hooks.beforeDownload, { update }, signal);
  }

  beforeApply(update: UpdateFacts, file: string, signal: AbortSignal): Promise<PreparationResult> {
    return this.#prepare('before_apply', this.#options.hooks.beforeApply, { update, file }, signal);
  }

  async afterApply(update: UpdateFacts): Promise<void> {
    await this.#notify('after_apply', this.#options.hooks.afterApply, { update });
  }

  /** Told after the failure was reported; one run at a time, the newest failure waiting (see the class). */
  onError(update: UpdateFacts, reason: string): Promise<void> {
    if (!this.#options.hooks.onError || this.#stopping.signal.aborted) return Promise.resolve();
    return this.#onError.push({ update, reason });
  }

  /**
   * Whether to reboot now (`why`: the new firmware is written, or the server asked). Under
   * `updates.reboot_policy = "hook"` hooks.before_reboot decides, and a failing hook follows hooks.on_hook_failure
   * ("apply" reboots) until it has failed hooks.before_reboot_max_failures times in a row: then the device reboots,
   * so a broken hook cannot keep the written firmware from booting for good. Under "immediate" the hook, if any,
   * is only told. Not asked under "never". Aborting `signal` stops the hook (the answer is then "reboot", which
   * the caller, stopping, does not act on).
   */
  async beforeReboot(
    why: string,
    update: UpdateFacts | undefined,
    signal?: AbortSignal,
  ): Promise<RebootDecision> {
    const { hooks, updates, logger } = this.#options;
    const context = { reason: why, ...(update ? { update } : {}) };
    if (updates.rebootPolicy !== 'hook' || !hooks.beforeReboot) {
      await this.#notify('before_reboot', hooks.beforeReboot, context);
      return { kind: 'reboot' };
    }
    const outcome = await this.#run('before_reboot', hooks.beforeReboot, context, signal);
    if (outcome.kind === 'aborted') return { kind: 'reboot' };
    const decision = interpretBeforeReboot(outcome, {
      timeoutMs: hooks.timeoutMs,
      defaultDelayMs: hooks.rescheduleDelayMs,
    });
    if (decision.kind !== 'hook-failed') {
      this.#rebootHookFailures = 0;
      if (decision.kind === 'reschedule') this.#logRescheduled('before_reboot', decision);
      return decision;
    }
    this.#rebootHookFailures += 1;
    if (hooks.onHookFailure === 'apply') {
      logger.warn(`${decision.problem}; rebooting now (hooks.on_hook_failure = "apply")`);
      return { kind: 'reboot' };
    }
    const failures = this.#rebootHookFailures;
    if (failures >= hooks.beforeRebootMaxFailures) {
      logger.warn(
        `${decision.problem}; it failed ${failures} times in a row, rebooting now (hooks.before_reboot_max_failures = ${hooks.beforeRebootMaxFailures})`,
      );
      this.#rebootHookFailures = 0;
      return { kind: 'reboot' };
    }
    const delay = formatDuration(hooks.rescheduleDelayMs);
    logger.warn(
      `${decision.problem}; asking again in ${delay} (hooks.on_hook_failure = "reschedule"; ` +
        `failure ${failures} of at most ${hooks.beforeRebootMaxFailures} before the daemon reboots anyway)`,
    );
    return { kind: 'reschedule', delayMs: hooks.rescheduleDelayMs, reason: decision.problem };
  }

  /**
   * The daemon is stopping: a hook that decides is stopped now, one that is only told gets OBSERVER_STOP_WAIT_MS
   * to finish, an on_error waiting is dropped. Resolves once no hook runs.
   */
  async stop(): Promise<void> {
    this.#stopping.abort();
    this.#onError.clear();
    const timer = setTimeout(() => this.#observersStopping.abort(), OBSERVER_STOP_WAIT_MS);
    timer.unref();
    try {
      await this.#onError.idle();
      while (this.#running.size > 0) await Promise.allSettled(this.#running);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Outside every window: rescheduled until the next one opens, plus a random part of the spread. */
  #outsideWindow(): UpdateDecision | undefined {
    const { windows, timezone, windowSpreadMs } = this.#options.updates;
    if (windows.length === 0) return undefined;
    const now = this.#now();
    const state = windowState(now, windows, timezone);
    if (state.inside) return undefined;
    // Never spread past the middle of the window, so a short window still leaves time to start.
    const spread = Math.floor(
      this.#random() * Math.min(windowSpreadMs, (state.closesAt - state.opensAt) / 2),
    );
    const delayMs = Math.max(1, Math.ceil(state.opensAt - now + spread));
    const listed = windows.map((window) => `"${window.text}"`).join(', ');
    // When it is asked again is `delay_for`, after the floor of a reschedule (DELAY_USES.offer): not repeated here.
    const reason =
      `outside the maintenance window ${listed} (${zoneName(timezone)}); ` +
      `it opens at ${formatLocalTime(state.opensAt, timezone)}`;
    return { kind: 'reschedule', delayMs, reason };
  }

  async #prepare(
    name: HookName,
    command: readonly string[] | undefined,
    context: Context,
    signal: AbortSignal,
  ): Promise<PreparationResult> {
    if (!command) return { kind: 'continue' };
    const { hooks } = this.#options;
    const outcome = await this.#run(name, command, context, signal);
    if (outcome.kind === 'aborted') return { kind: 'continue' }; // the caller sees the abort and stops
    const verdict: ReturnType<typeof interpretPreparation> = interpretPreparation(name, outcome, {
      timeoutMs: hooks.timeoutMs,
      defaultDelayMs: hooks.rescheduleDelayMs,
    });
    if (verdict.kind === 'reschedule') this.#logRescheduled(name, verdict);
    if (verdict.kind !== 'hook-failed') return verdict;
    return this.#preparationFailed(verdict);
  }

  #preparationFailed(failure: HookFailure): PreparationResult {
    const { hooks, logger } = this.#options;
    if (hooks.onBeforeHookFailure === 'reschedule') {
      const delay = formatDuration(hooks.rescheduleDelayMs);
      logger.warn(
        `${failure.problem}; asking again in ${delay} (hooks.on_before_hook_failure = "reschedule")`,
      );
      return {
        kind: 'reschedule',
        delayMs: hooks.rescheduleDelayMs,
        reason: `${failure.problem}; rescheduled for ${delay} by hooks.on_before_hook_failure`,
      };
    }
    return { kind: 'fail', reason: `${REASON_PREFIX.update}${failure.problem}` };
  }

  /** The hook's own answer, as it gave it; whoever waits on the delay logs the bound it applied, if any. */
  #logRescheduled(name: HookName, answer: { readonly delayMs: number; readonly reason: string }): void {
    this.#options.logger.info(
      `hooks.${name} asked to wait ${formatDuration(answer.delayMs)} (${answer.delayMs} ms): ${answer.reason}`,
    );
  }

  /** A hook that is told, not asked: how it ended is logged, nothing more. */
  async #notify(name: HookName, command: readonly string[] | undefined, context: Context): Promise<void> {
    if (!command) return;
    const outcome = await this.#run(name, command, context, this.#observersStopping.signal);
    if (outcome.kind === 'exited' && outcome.code === 0) return;
    const output = outcome.kind === 'not-started' ? '' : outcome.stderr.trim() || outcome.stdout.trim();
    this.#options.logger.warn(
      `hooks.${name} ${describeOutcome(outcome, this.#options.hooks.timeoutMs)}${output ? `: ${shownTail(output, OUTPUT_IN_WARNING_CHARS)}` : ''}`,
    );
  }

  /** Runs hook `name` once the previous run of the same hook has ended; stopped by `signal` or by `stop`. */
  #run(
    name: HookName,
    command: readonly string[],
    context: Context,
    signal?: AbortSignal,
  ): Promise<HookOutcome> {
    const previous = this.#lanes.get(name) ?? Promise.resolve();
    const run = previous.then(() => this.#runNow(name, command, context, signal));
    this.#lanes.set(name, run);
    this.#running.add(run);
    const forget = () => {
      this.#running.delete(run);
      if (this.#lanes.get(name) === run) this.#lanes.delete(name);
    };
    run.then(forget, forget);
    return run;
  }

  async #runNow(
    name: HookName,
    command: readonly string[],
    context: Context,
    signal: AbortSignal | undefined,
  ): Promise<HookOutcome> {
    const { identifier, running, hooks, logger } = this.#options;
    const stops = [this.#stopping.signal, ...(signal ? [signal] : [])];
    // Told hooks pass the later signal; the others end at once with the stop.
    const stopSignal = signal === this.#observersStopping.signal ? signal : AbortSignal.any(stops);
    const full: HookContext = { hook: name, identifier, running, ...context };
    logger.info(`running hooks.${name}`, context.update ? { update: context.update.uuid } : undefined);
    const outcome = await this.#runHook({
      name,
      command,
      env: hookEnvironment(full),
      input: hookInput(full),
      timeoutMs: hooks.timeoutMs,
      signal: stopSignal,
    });
    if (outcome.kind !== 'not-started') {
      const said = outcome.stdout.trim();
      logger.debug(
        `hooks.${name} ${describeOutcome(outcome, hooks.timeoutMs)} after ${outcome.durationMs} ms`,
        said ? { stdout: shownTail(said, 400) } : undefined,
      );
    }
    return outcome;
  }
}
