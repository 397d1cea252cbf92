/**
 * What a hook's exit status and output mean. A hook answers on the last non-empty line of its stdout (earlier
 * lines are its own chatter), a keyword in any case followed by its arguments:
 *
 * - `update_available`: exit 0 with no answer or `apply` → apply; `ignore [reason]` → ignored;
 *   `reschedule <delay> [reason]` → rescheduled (delay in milliseconds, or with a unit: 90s, 15m, 2h). Exit 21
 *   ("retry later", as Mender's state scripts) → rescheduled, by the delay on the answer line if it has one, else
 *   by the default.
 * - `before_reboot` under `updates.reboot_policy = "hook"`: exit 0 with no answer or `reboot` → reboot now;
 *   `reschedule <delay> [reason]` or exit 21 → ask again later.
 * - `before_download`, `before_apply`: exit 0 → go on; exit 21 or `reschedule <delay> [reason]` → rescheduled;
 *   anything else fails them.
 *
 * Anything else (another status, a signal, a timeout, an answer that is none of these) is a hook failure,
 * described for the operator, so the caller can apply `hooks.on_hook_failure`. A delay is read as the hook wrote
 * it; its floor and ceiling are the caller's (config/values/delay-bounds.ts), which logs what it changed.
 */
import { describeValue, REASON_MAX_CHARS, shown, shownTail } from '@nerves-hub-link/message-text';
import { parseDuration } from '../config/values/duration.js';
import type { UpdateDecision } from '../update/policy.js';
import { describeOutcome, type HookName, type HookOutcome } from './hook-runner.js';

/** Exit status meaning "not now, ask me again later" (Mender state scripts' retry-later code). */
export const RETRY_LATER_EXIT = 21;
/** How much of a failed hook's output (its end) goes into the reason, escaped. */
const OUTPUT_IN_REASON_CHARS = 160;

export type RebootDecision =
  | { readonly kind: 'reboot' }
  | { readonly kind: 'reschedule'; readonly delayMs: number; readonly reason: string };

export type StepVerdict =
  | { readonly kind: 'continue' }
  | { readonly kind: 'reschedule'; readonly delayMs: number; readonly reason: string };

/** A hook whose answer cannot be used: `problem` says why, in words for a log line and a status reason. */
export interface HookFailure {
  readonly kind: 'hook-failed';
  readonly problem: string;
}

interface InterpretOptions {
  readonly timeoutMs: number;
  readonly defaultDelayMs: number;
}

export function interpretUpdateAvailable(
  outcome: HookOutcome,
  options: InterpretOptions,
): UpdateDecision | HookFailure {
  const name: HookName = 'update_available';
  return interpret(name, outcome, options, (answer) => {
    if (answer === undefined || answer.keyword === 'apply') return { kind: 'apply' };
    if (answer.keyword === 'ignore') {
      return { kind: 'ignore', reason: answer.rest ? reason(answer.rest) : `ignored by hooks.${name}` };
    }
    if (answer.keyword === 'reschedule') return reschedule(name, answer.rest, undefined);
    return failure(
      name,
      outcome,
      options.timeoutMs,
      `printed ${describeValue(answer.line)}, not apply, ignore or reschedule`,
    );
  });
}

export function interpretBeforeReboot(
  outcome: HookOutcome,
  options: InterpretOptions,
): RebootDecision | HookFailure {
  const name: HookName = 'before_reboot';
  return interpret(name, outcome, options, (answer) => {
    if (answer === undefined || answer.keyword === 'reboot') return { kind: 'reboot' };
    if (answer.keyword === 'reschedule') return reschedule(name, answer.rest, undefined);
    return failure(
      name,
      outcome,
      options.timeoutMs,
      `printed ${describeValue(answer.line)}, not reboot or reschedule`,
    );
  });
}

/** `before_download` and `before_apply`: they prepare the device; only a request to retry later is an answer. */
export function interpretPreparation(
  name: HookName,
  outcome: HookOutcome,
  options: InterpretOptions,
): StepVerdict | HookFailure {
  return interpret(name, outcome, options, (answer) =>
    answer?.keyword === 'reschedule' ? reschedule(name, answer.rest, undefined) : { kind: 'continue' },
  );
}

/**
 * Every hook's outcome read alike: exit 0 hands its answer line (if any) to `onSuccess`, exit 21 asks again
 * later, anything else is a hook failure.
 */
function interpret<T>(
  name: HookName,
  outcome: HookOutcome,
  options: InterpretOptions,
  onSuccess: (answer: Answer | undefined) => T,
): T | Rescheduled | HookFailure {
  const answer = answerOf(outcome);
  if (outcome.kind === 'exited' && outcome.code === 0) return onSuccess(answer);
  if (outcome.kind === 'exited' && outcome.code === RETRY_LATER_EXIT) {
    return retryLater(name, answer, options.defaultDelayMs);
  }
  return failure(name, outcome, options.timeoutMs);
}

interface Answer {
  readonly line: string;
  readonly keyword: string;
  readonly rest: string;
}

function answerOf(outcome: HookOutcome): Answer | undefined {
  if (outcome.kind === 'not-started') return undefined;
  const line = outcome.stdout
    .split('\n')
    .map((each) => each.trim())
    .filter((each) => each !== '')
    .at(-1);
  if (line === undefined) return undefined;
  const [keyword = '', ...rest] = line.split(/\s+/);
  return { line, keyword: keyword.toLowerCase(), rest: rest.join(' ') };
}

/** `reschedule <delay> [reason]`; a missing or bad delay falls back to `defaultDelayMs` when there is one. */
type Rescheduled = { readonly kind: 'reschedule'; readonly delayMs: number; readonly reason: string };

function reschedule(
  name: HookName,
  args: string,
  defaultDelayMs: number | undefined,
): Rescheduled | HookFailure {
  const [delayText = '', ...words] = args.split(/\s+/);
  const delayMs = parseDuration(delayText);
  if (delayMs === undefined) {
    if (defaultDelayMs !== undefined) return rescheduled(name, defaultDelayMs, args);
    return {
      kind: 'hook-failed',
      problem:
        `hooks.${name} answered "reschedule" with ${delayText ? describeValue(delayText) : 'no delay'}; ` +
        'expected milliseconds or a duration such as 15m',
    };
  }
  return rescheduled(name, delayMs, words.join(' '));
}

function retryLater(
  name: HookName,
  answer: Answer | undefined,
  defaultDelayMs: number,
): Rescheduled | HookFailure {
  if (answer?.keyword === 'reschedule') return reschedule(name, answer.rest, defaultDelayMs);
  return rescheduled(name, defaultDelayMs, answer?.line ?? '');
}

function rescheduled(name: HookName, delayMs: number, text: string): Rescheduled {
  return {
    kind: 'reschedule',
    delayMs,
    reason: text.trim() ? reason(text) : `rescheduled by hooks.${name}`,
  };
}

function failure(name: HookName, outcome: HookOutcome, timeoutMs: number, what?: string): HookFailure {
  const how = what ?? describeOutcome(outcome, timeoutMs);
  const output = outcome.kind === 'not-started' ? '' : outcome.stderr.trim() || outcome.stdout.trim();
  return {
    kind: 'hook-failed',
    problem: `hooks.${name} ${how}${!what && output ? `: ${shownTail(output, OUTPUT_IN_REASON_CHARS)}` : ''}`,
  };
}

function reason(text: string): string {
  return shown(text.trim(), REASON_MAX_CHARS);
}
