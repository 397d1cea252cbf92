import type { UpdateFacts } from './facts.js';

/** The operator's answer to an offer: apply it now, ignore it, or be asked again later. */
export type UpdateDecision =
  | { readonly kind: 'apply' }
  | { readonly kind: 'ignore'; readonly reason: string }
  | { readonly kind: 'reschedule'; readonly delayMs: number; readonly reason: string };

/** What a step before the download or the apply says about the update. */
export type PreparationResult =
  | { readonly kind: 'continue' }
  | { readonly kind: 'reschedule'; readonly delayMs: number; readonly reason: string }
  | { readonly kind: 'fail'; readonly reason: string };

/**
 * The operator's say in an update, asked by the update manager at each step. Never throws: a hook that fails is
 * turned into the configured outcome with a reason.
 */
export interface UpdatePolicy {
  /** After `received`: apply now, ignore, or ask again later. */
  decide(update: UpdateFacts, signal: AbortSignal): Promise<UpdateDecision>;
  beforeDownload(update: UpdateFacts, signal: AbortSignal): Promise<PreparationResult>;
  beforeApply(update: UpdateFacts, file: string, signal: AbortSignal): Promise<PreparationResult>;
  /** fwup has written the firmware; the reboot comes next. Its failure is only logged. */
  afterApply(update: UpdateFacts): Promise<void>;
  /** The update failed with `reason` (already reported). Its failure is only logged. */
  onError(update: UpdateFacts, reason: string): Promise<void>;
}

/** No hooks, no window: every offer is applied at once. */
export const APPLY_EVERYTHING: UpdatePolicy = {
  decide: async () => ({ kind: 'apply' }),
  beforeDownload: async () => ({ kind: 'continue' }),
  beforeApply: async () => ({ kind: 'continue' }),
  afterApply: async () => {},
  onError: async () => {},
};
