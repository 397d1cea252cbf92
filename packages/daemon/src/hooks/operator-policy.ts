import type { HooksConfig } from '../config/sections/hooks.js';
import type { UpdatesConfig } from '../config/sections/updates.js';
import { formatDuration } from '../config/values/duration.js';
import { formatLocalTime, windowState, zoneName } from '../config/values/maintenance-window.js';
import type { Logger } from '../log/logger.js';
import { outputTail } from '../log/printable.js';
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

/** `[updates]` windows and `[hooks]`, as configured. */
export class OperatorPolicy implements UpdatePolicy {
  readonly #options: OperatorPolicyOptions;
  readonly #now: () => number;
  readonly #random: () => number;
  readonly #runHook: (request: HookRequest) => Promise<HookOutcome>;

  constructor(options: OperatorPolicyOptions) {
    this.#options = options;
    this.#now = options.now ?? Date.now;
    this.#random = options.random ?? Math.random;
    this.#runHook = options.runHook ?? runHook;
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

  async onError(update: UpdateFacts, reason: string): Promise<void> {
    await this.#notify('on_error', this.#options.hooks.onError, { update, reason });
  }

  /**
   * Whether to reboot now (`why`: the new firmware is written, or the server asked). Under
   * `updates.reboot_policy = "hook"` hooks.before_reboot decides, and a failing hook follows hooks.on_hook_failure
   * ("apply" reboots). Under "immediate" the hook, if any, is only told. Not asked under "never".
   */
  async beforeReboot(why: string, update: UpdateFacts | undefined): Promise<RebootDecision> {
    const { hooks, updates, logger } = this.#options;
    const context = { reason: why, ...(update ? { update } : {}) };
    if (updates.rebootPolicy !== 'hook' || !hooks.beforeReboot) {
      await this.#notify('before_reboot', hooks.beforeReboot, context);
      return { kind: 'reboot' };
    }
    const outcome = await this.#run('before_reboot', hooks.beforeReboot, context);
    const decision = interpretBeforeReboot(outcome, {
      timeoutMs: hooks.timeoutMs,
      defaultDelayMs: hooks.rescheduleDelayMs,
    });
    if (decision.kind !== 'hook-failed') return decision;
    if (hooks.onHookFailure === 'apply') {
      logger.warn(`${decision.problem}; rebooting now (hooks.on_hook_failure = "apply")`);
      return { kind: 'reboot' };
    }
    const delay = formatDuration(hooks.rescheduleDelayMs);
    logger.warn(`${decision.problem}; asking again in ${delay} (hooks.on_hook_failure = "reschedule")`);
    return { kind: 'reschedule', delayMs: hooks.rescheduleDelayMs, reason: decision.problem };
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
    const reason =
      `outside the maintenance window ${listed} (${zoneName(timezone)}); ` +
      `it opens at ${formatLocalTime(state.opensAt, timezone)}; retrying in ${formatDuration(delayMs)}`;
    return { kind: 'reschedule', delayMs, reason };
  }

  async #prepare(
    name: HookName,
    command: readonly string[] | undefined,
    context: Omit<HookContext, 'hook' | 'identifier' | 'running'>,
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

  /** A hook that is told, not asked: how it ended is logged, nothing more. */
  async #notify(
    name: HookName,
    command: readonly string[] | undefined,
    context: Omit<HookContext, 'hook' | 'identifier' | 'running'>,
  ): Promise<void> {
    if (!command) return;
    const outcome = await this.#run(name, command, context);
    if (outcome.kind === 'exited' && outcome.code === 0) return;
    const output = outcome.kind === 'not-started' ? '' : outcome.stderr.trim() || outcome.stdout.trim();
    this.#options.logger.warn(
      `hooks.${name} ${describeOutcome(outcome, this.#options.hooks.timeoutMs)}${output ? `: ${outputTail(output, 160)}` : ''}`,
    );
  }

  #run(
    name: HookName,
    command: readonly string[],
    context: Omit<HookContext, 'hook' | 'identifier' | 'running'>,
    signal?: AbortSignal,
  ): Promise<HookOutcome> {
    const { identifier, running, hooks, logger } = this.#options;
    const full: HookContext = { hook: name, identifier, running, ...context };
    logger.info(`running hooks.${name}`, context.update ? { update: context.update.uuid } : undefined);
    return this.#runHook({
      name,
      command,
      env: hookEnvironment(full),
      input: hookInput(full),
      timeoutMs: hooks.timeoutMs,
      ...(signal ? { signal } : {}),
    }).then((outcome) => {
      if (outcome.kind !== 'not-started') {
        const said = outcome.stdout.trim();
        logger.debug(
          `hooks.${name} ${describeOutcome(outcome, hooks.timeoutMs)} after ${outcome.durationMs} ms`,
          said ? { stdout: outputTail(said, 400) } : undefined,
        );
      }
      return outcome;
    });
  }
}
