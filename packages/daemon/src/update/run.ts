import { REASON_MAX_CHARS, shown } from '@nerves-hub-link/message-text';
import type { Logger } from '../log/logger.js';
import { REASON_PREFIX } from './constants.js';
import type { UpdateEvent } from './events.js';
import type { UpdateFacts } from './facts.js';
import { classifyFailure, type Failure } from './failure-reason.js';
import type { UpdateOffer } from './offer.js';
import type { PreparationResult, UpdatePolicy } from './policy.js';
import type { SigningKeys } from './signing-keys.js';
import type { UpdateStage } from './stage.js';
import type { UpdateSteps } from './steps.js';

/** One update run: the offer, what runs its steps, and where it reports. */
export interface UpdateRun {
  readonly offer: UpdateOffer;
  readonly facts: UpdateFacts;
  /** Aborted when the daemon stops: every step before the apply ends, the apply is waited for. */
  readonly signal: AbortSignal;
  readonly steps: UpdateSteps;
  readonly policy: UpdatePolicy;
  readonly keys: SigningKeys;
  /** `fwup.allow_unsigned`: apply firmware even when there is no key to check its signature with. */
  readonly allowUnsigned: boolean;
  readonly keysWaitMs: number;
  readonly logger: Logger;
  /** The update moves on to `stage`. */
  enter(stage: UpdateStage, percent?: number): void;
  emit(event: UpdateEvent): void;
  /** fwup has written the firmware: `completed` is reported now, before after_apply. */
  completed(): void;
}

/** How a run ended; the update manager reports it. */
export type RunOutcome =
  | { readonly kind: 'applied' }
  | { readonly kind: 'ignored'; readonly reason: string }
  | { readonly kind: 'rescheduled'; readonly delayMs: number; readonly reason: string }
  | { readonly kind: 'failed'; readonly failure: Failure }
  /** Stopped by the daemon before the apply: nothing is reported, NervesHub offers it again. */
  | { readonly kind: 'dropped' };

const NO_KEYS =
  `${REASON_PREFIX.unverified}no fwup public keys to check the firmware signature with; ` +
  'configure fwup.public_keys on the device, or add a firmware signing key to the NervesHub organization ' +
  '(sent to devices that join without keys)';

/**
 * The steps of one update, in order (an offer whose size is not a size fails before any of them): the operator's decision (maintenance window, hooks.update_available),
 * before_download, the signing keys, the download (`started` per connection, progress), `fwup -V`, before_apply,
 * `fwup -a` (progress), `completed`, after_apply. Whatever ends it early, the downloaded file is removed.
 */
export async function runUpdate(run: UpdateRun): Promise<RunOutcome> {
  const { offer, facts, signal, steps, policy, logger } = run;
  // Cannot succeed: no decision nor hook is asked about it.
  if (offer.sizeProblem) {
    return {
      kind: 'failed',
      failure: {
        reason: shown(`${REASON_PREFIX.download}${offer.sizeProblem}`, REASON_MAX_CHARS),
        code: 'FW_SIZE_INVALID',
      },
    };
  }
  let path: string | undefined;
  try {
    const decision = await policy.decide(facts, signal);
    if (signal.aborted) throw signal.reason;
    if (decision.kind === 'ignore') return { kind: 'ignored', reason: decision.reason };
    if (decision.kind === 'reschedule') return rescheduled(decision);
    run.enter('before-download');
    const beforeDownload = await policy.beforeDownload(facts, signal);
    if (signal.aborted) throw signal.reason;
    if (beforeDownload.kind !== 'continue') return stopped(beforeDownload);
    if (!(await signingKeysReady(run))) return { kind: 'failed', failure: { reason: NO_KEYS } };

    logger.info(`update ${offer.uuid}${offer.version ? ` (${offer.version})` : ''}: downloading`, {
      size: offer.size,
    });
    run.enter('downloading');
    path = await steps.download(offer, {
      signal,
      onProgress: (percent, bytes) =>
        run.emit({ type: 'progress', update: facts, stage: 'downloading', percent, bytes }),
      // As the reference does each time its download connection opens (nerves_hub_link downloader.ex).
      onConnection: ({ networkInterface }) =>
        run.emit({ type: 'connection', update: facts, networkInterface }),
    });
    run.emit({ type: 'stage-done', update: facts, stage: 'downloading' });
    run.enter('verifying');
    logger.info(`update ${offer.uuid}: verifying`);
    await steps.verify(path, { signal });
    if (signal.aborted) throw signal.reason;
    run.enter('before-apply');
    const beforeApply = await policy.beforeApply(facts, path, signal);
    if (signal.aborted) throw signal.reason;
    if (beforeApply.kind !== 'continue') {
      await steps.discard(path);
      path = undefined;
      return stopped(beforeApply);
    }

    logger.info(`update ${offer.uuid}: applying`);
    run.enter('applying', 0);
    const written = path;
    await steps.apply(written, {
      onProgress: (percent) => run.emit({ type: 'progress', update: facts, stage: 'applying', percent }),
    });
    run.emit({ type: 'stage-done', update: facts, stage: 'applying' });
    run.completed();
    await steps.discard(written);
    run.enter('after-apply');
    await policy.afterApply(facts);
    run.enter('awaiting-reboot');
    return { kind: 'applied' };
  } catch (error) {
    if (path) await steps.discard(path);
    // A stop reports nothing: `failed` would cost the device its updates for the penalty time.
    if (signal.aborted) return { kind: 'dropped' };
    return { kind: 'failed', failure: classifyFailure(error, offer.firmwareUrl) };
  }
}

function stopped(result: Exclude<PreparationResult, { kind: 'continue' }>): RunOutcome {
  return result.kind === 'fail'
    ? { kind: 'failed', failure: { reason: result.reason } }
    : rescheduled(result);
}

function rescheduled(result: { readonly delayMs: number; readonly reason: string }): RunOutcome {
  return { kind: 'rescheduled', delayMs: result.delayMs, reason: result.reason };
}

/**
 * True when fwup will have a key to check the signature with, or unsigned firmware is allowed. Without keys,
 * waits (bounded) for those the join asked the server for.
 */
async function signingKeysReady(run: UpdateRun): Promise<boolean> {
  const { keys, allowUnsigned, logger, offer, signal } = run;
  if (keys.available) return true;
  if (allowUnsigned) {
    logger.warn(`update ${offer.uuid}: no fwup public keys; applying it unverified (fwup.allow_unsigned)`);
    return true;
  }
  if (signal.aborted) throw signal.reason;
  run.enter('awaiting-keys');
  logger.info(
    `update ${offer.uuid}: waiting up to ${run.keysWaitMs / 1000} s for the server's fwup public keys`,
  );
  const ready = await keys.wait(run.keysWaitMs, signal);
  if (signal.aborted) throw signal.reason;
  return ready;
}
