import type { Config } from '../config/config.js';
import { HOOK_KEYS } from '../config/sections/hooks.js';
import type { ValidationConfig } from '../config/sections/validation.js';
import { formatDuration } from '../config/values/duration.js';
import { formatLocalTime, windowState, zoneName } from '../config/values/maintenance-window.js';

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

/**
 * What `[validation]` will do on the running firmware (a missing program of it is a problem of its own:
 * lifecycle/configured-programs.ts).
 */
export function validationSummary(
  validation: ValidationConfig,
  firmware: {
    readonly validated: boolean | undefined;
    readonly uuid: string | undefined;
    readonly detail: string;
  },
): string[] {
  const lines: string[] = [];
  const { command, when, healthCheck, deadlineMs } = validation;
  const validates = !command
    ? 'the device validates it itself (no validation.command): the daemon reports it'
    : when === 'manual'
      ? '`nerves-hub-link validate` validates it (validation.when = "manual")'
      : `the daemon runs validation.command after the first join${healthCheck ? ' and a passing validation.health_check' : ''}`;
  const reverts =
    deadlineMs === undefined
      ? 'no deadline: it is never rolled back by the daemon'
      : `not validated ${formatDuration(deadlineMs)} after the daemon's first start on it, it is rolled back with validation.revert_command and a reboot`;
  if (firmware.validated === false) {
    lines.push(
      `ok   validation: firmware ${firmware.uuid} is not validated (${firmware.detail}): ${validates}; ${reverts}`,
    );
  } else {
    const state =
      firmware.validated === true ? 'is validated' : 'has no validation state (counted as validated)';
    lines.push(`ok   validation: the running firmware ${state}; after an update, ${validates}; ${reverts}`);
  }
  return lines;
}
