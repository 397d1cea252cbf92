import type { Config } from '../config/config.js';
import { formatDuration } from '../config/values/duration.js';
import { formatLocalTime, windowState, zoneName } from '../config/values/maintenance-window.js';

const HOOK_KEYS = [
  ['updateAvailable', 'update_available'],
  ['beforeDownload', 'before_download'],
  ['beforeApply', 'before_apply'],
  ['afterApply', 'after_apply'],
  ['onError', 'on_error'],
  ['beforeReboot', 'before_reboot'],
] as const;

/**
 * What `check` says about operator control: the window (open now or when it opens), the reboot policy, the
 * configured hooks. (A hook whose program cannot be found is a problem of its own: lifecycle/configured-programs.ts.)
 */
export function operatorSummary(config: Config, now: number = Date.now()): string[] {
  const lines: string[] = [];
  const { windows, timezone, rebootPolicy, windowSpreadMs } = config.updates;
  if (windows.length === 0) {
    lines.push(`ok   updates: any time, reboot_policy ${rebootPolicy}`);
  } else {
    const state = windowState(now, windows, timezone);
    const when = state.inside
      ? `open now, until ${formatLocalTime(state.closesAt, timezone)}`
      : `opens ${formatLocalTime(state.opensAt, timezone)}`;
    const listed = windows.map((window) => `"${window.text}"`).join(', ');
    lines.push(
      `ok   updates: window ${listed} (${zoneName(timezone)}), ${when}, spread ${formatDuration(windowSpreadMs)}; reboot_policy ${rebootPolicy}`,
    );
  }
  const configured = HOOK_KEYS.filter(([key]) => config.hooks[key] !== undefined);
  if (configured.length > 0) {
    lines.push(
      `ok   hooks: ${configured.map(([, name]) => name).join(', ')} (timeout ${formatDuration(config.hooks.timeoutMs)})`,
    );
  }
  return lines;
}
