import { describeValue } from '@nerves-hub-link/message-text';
import { CONFIG_DEFAULTS } from '../defaults.js';
import type { TableReader } from '../table-reader.js';
import { duration } from '../value-keys.js';
import { checkTimeZone, type MaintenanceWindow, parseWindow } from '../values/maintenance-window.js';
import type { HooksConfig } from './hooks.js';

export type RebootPolicy = 'immediate' | 'hook' | 'never';

export interface UpdatesConfig {
  /** Empty: any time. */
  readonly windows: readonly MaintenanceWindow[];
  /** IANA name; absent: the system's local time. */
  readonly timezone?: string;
  /** Up to this much random delay after a window opens, so a fleet does not start in the same second. */
  readonly windowSpreadMs: number;
  readonly rebootPolicy: RebootPolicy;
}

/** `[updates]`: when updates may start, and how the device reboots into one (the "hook" policy needs a hook). */
export function readUpdates(updates: TableReader, hooks: HooksConfig): UpdatesConfig {
  const windows: MaintenanceWindow[] = [...CONFIG_DEFAULTS.updateWindows];
  const raw = updates.raw('window');
  const texts = typeof raw === 'string' ? [raw] : raw;
  if (texts !== undefined) {
    if (!Array.isArray(texts) || texts.some((text) => typeof text !== 'string')) {
      updates.problem(
        'window',
        `expected an array of windows such as ["Mon-Fri 02:00-05:00"], got ${describeValue(raw)}`,
      );
    } else {
      texts.forEach((text: string, index) => {
        const parsed = parseWindow(text);
        if (parsed.ok) windows.push(parsed.window);
        else updates.problem(`window[${index}]`, `${describeValue(text)}: ${parsed.problem}`);
      });
    }
  }
  const timezone = updates.string('timezone', 'an IANA time zone name such as "Europe/Berlin"');
  if (timezone !== undefined) {
    try {
      checkTimeZone(timezone);
    } catch {
      updates.problem(
        'timezone',
        `${describeValue(timezone)} is not a time zone known to Node's Intl; use an IANA name such as "Europe/Berlin" or "UTC"`,
      );
    }
  }
  const windowSpreadMs = duration(updates, 'window_spread', CONFIG_DEFAULTS.windowSpreadMs, {
    min: 0,
    max: 86_400_000,
  });
  const rebootPolicy =
    updates.oneOf('reboot_policy', ['immediate', 'hook', 'never'] as const, CONFIG_DEFAULTS.rebootPolicy) ??
    CONFIG_DEFAULTS.rebootPolicy;
  if (rebootPolicy === 'hook' && !hooks.beforeReboot) {
    updates.problem('reboot_policy', '"hook" needs a hooks.before_reboot command to ask');
  }
  updates.rejectUnknown();
  return {
    windows,
    ...(timezone !== undefined ? { timezone } : {}),
    windowSpreadMs,
    rebootPolicy,
  };
}
