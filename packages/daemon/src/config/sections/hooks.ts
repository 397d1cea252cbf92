import { CONFIG_DEFAULTS } from '../defaults.js';
import type { TableReader } from '../table-reader.js';
import { duration } from '../value-keys.js';
import { DELAY_USES } from '../values/delay-bounds.js';

export interface HooksConfig {
  readonly updateAvailable?: readonly string[];
  readonly beforeDownload?: readonly string[];
  readonly beforeApply?: readonly string[];
  readonly afterApply?: readonly string[];
  readonly onError?: readonly string[];
  readonly beforeReboot?: readonly string[];
  readonly timeoutMs: number;
  /** What a failed, hung or unreadable update_available (or before_reboot under the hook policy) means. */
  readonly onHookFailure: 'apply' | 'reschedule';
  /** What a failed before_download or before_apply does to the update. */
  readonly onBeforeHookFailure: 'fail' | 'reschedule';
  /** The delay of a reschedule that names none: exit 21, and the two failure policies above. */
  readonly rescheduleDelayMs: number;
  /**
   * Under `updates.reboot_policy = "hook"`: after this many failures of before_reboot in a row the daemon reboots
   * anyway, so a broken hook cannot keep a written firmware from booting for good.
   */
  readonly beforeRebootMaxFailures: number;
}

/** Each hook's field in HooksConfig and its key in `[hooks]`, in the order of an update. */
export const HOOK_KEYS = [
  ['updateAvailable', 'update_available'],
  ['beforeDownload', 'before_download'],
  ['beforeApply', 'before_apply'],
  ['afterApply', 'after_apply'],
  ['onError', 'on_error'],
  ['beforeReboot', 'before_reboot'],
] as const;

/** `[hooks]`: the operator's programs, asked or told at each step of an update, and what their failure means. */
export function readHooks(hooks: TableReader): HooksConfig {
  // `name = ""` (as in the example config) means: no such hook.
  const command = (key: string) => (hooks.raw(key) === '' ? undefined : hooks.command(key));
  const commands = Object.fromEntries(
    HOOK_KEYS.map(([field, key]) => [field, command(key)] as const).filter(
      ([, value]) => value !== undefined,
    ),
  ) as Partial<Record<(typeof HOOK_KEYS)[number][0], string[]>>;
  const result = {
    ...commands,
    timeoutMs: hooks.integer('timeout_ms', CONFIG_DEFAULTS.hookTimeoutMs, 100, 3_600_000, 'milliseconds'),
    onHookFailure:
      hooks.oneOf('on_hook_failure', ['apply', 'reschedule'] as const, CONFIG_DEFAULTS.hookOnHookFailure) ??
      CONFIG_DEFAULTS.hookOnHookFailure,
    onBeforeHookFailure:
      hooks.oneOf(
        'on_before_hook_failure',
        ['fail', 'reschedule'] as const,
        CONFIG_DEFAULTS.hookOnBeforeHookFailure,
      ) ?? CONFIG_DEFAULTS.hookOnBeforeHookFailure,
    // Never shorter than a rescheduled offer may be: the delay is sent to NervesHub and waited for.
    rescheduleDelayMs: duration(hooks, 'reschedule_delay', CONFIG_DEFAULTS.hookRescheduleDelayMs, {
      min: DELAY_USES.offer.floorMs,
      max: 7 * 86_400_000,
    }),
    beforeRebootMaxFailures: hooks.integer(
      'before_reboot_max_failures',
      CONFIG_DEFAULTS.hookBeforeRebootMaxFailures,
      1,
      1000,
      'failures',
    ),
  };
  hooks.rejectUnknown();
  return result;
}
