/**
 * The floor and the ceiling of every delay the daemon waits on before doing something NervesHub sees. A hook's
 * answer, the config, a maintenance window and the repeated-failure guard all name delays; each goes through
 * `boundDelay` with its use before a timer is set or `delay_for` is sent.
 *
 * - A floor, because a short delay becomes a loop the server counts: every offer the device answers counts an
 *   update attempt (nerves_hub_web lib/nerves_hub/firmware_updates.ex maybe_update_update_attempts), and 5 attempts
 *   within 180 s put a deployment's device in the penalty box (lib/nerves_hub/devices/updates.ex
 *   failure_rate_met?). A hook answering `reschedule 1` to a manual push made some 200 attempts in 5 s.
 * - A ceiling, because NervesHub adds `delay_for` to a date and a month is already a forgotten update. A timer holds
 *   at most 2^31−1 ms (24.8 days); runtime/clock.ts waits longer delays in steps, so none is refused for its length.
 */
import { formatDuration } from './duration.js';

const MINUTE_MS = 60_000;
const DAY_MS = 86_400_000;

export interface DelayUse {
  /** What waits, for messages: "a rescheduled offer". */
  readonly what: string;
  readonly floorMs: number;
  readonly ceilingMs: number;
  /** Why the floor, for the log line that says a delay was raised to it. */
  readonly floorReason: string;
}

export const DELAY_USES = {
  /**
   * An offer answered `rescheduled`: its `delay_for`, and when the device asks about it again itself. 5 minutes, the
   * reference client's floor (nerves_hub_link lib/nerves_hub_link/update_manager.ex lines 249 and 259 raise a delay
   * under 5 minutes to 5): a device that re-asks at most every 5 minutes makes at most one attempt in NervesHub's
   * 180 s failure-rate window, however its hook answers. A maintenance window that opens sooner is waited for 5 minutes:
   * no longer than its default spread.
   */
  offer: {
    what: 'a rescheduled offer',
    floorMs: 5 * MINUTE_MS,
    ceilingMs: 30 * DAY_MS,
    floorReason: 'the shortest reschedule the device sends NervesHub and asks again after',
  },
  /**
   * A reboot postponed by hooks.before_reboot: when the hook is asked again. Nothing reaches NervesHub while the
   * written firmware waits (offers get no status then), so a minute is enough to keep the hook from running in a loop.
   */
  reboot: {
    what: 'a postponed reboot',
    floorMs: MINUTE_MS,
    ceilingMs: 30 * DAY_MS,
    floorReason: 'hooks.before_reboot is asked at most once a minute',
  },
} as const satisfies Record<string, DelayUse>;

export interface BoundedDelay {
  /** The delay to wait, within the use's floor and ceiling. */
  readonly ms: number;
  /** What was asked for. */
  readonly requestedMs: number;
  /** Which bound changed it, if one did. */
  readonly limit?: 'floor' | 'ceiling';
}

/**
 * `requestedMs` within the floor and ceiling of `use`, as a whole number of milliseconds. Anything that is not a
 * positive number (NaN, negative, 0) is raised to the floor. The ceilings are longer than a timer holds, which
 * runtime/clock.ts handles, so no delay is ever refused here: a hook that asks for "later" gets later.
 */
export function boundDelay(requestedMs: number, use: DelayUse): BoundedDelay {
  if (!(requestedMs >= use.floorMs)) return { ms: use.floorMs, requestedMs, limit: 'floor' };
  if (requestedMs > use.ceilingMs) return { ms: use.ceilingMs, requestedMs, limit: 'ceiling' };
  return { ms: Math.ceil(requestedMs), requestedMs };
}

/** "1 ms raised to 5 min (…)", "40 d cut to 30 d (…)"; undefined when no bound changed it. */
export function describeBound(delay: BoundedDelay, use: DelayUse): string | undefined {
  const asked = Number.isFinite(delay.requestedMs)
    ? formatDuration(delay.requestedMs)
    : String(delay.requestedMs);
  if (delay.limit === 'floor') {
    return `the delay of ${use.what}, ${asked}, was raised to ${formatDuration(delay.ms)} (${use.floorReason})`;
  }
  if (delay.limit === 'ceiling') {
    return `the delay of ${use.what}, ${asked}, was cut to ${formatDuration(delay.ms)} (the longest the device waits)`;
  }
  return undefined;
}
