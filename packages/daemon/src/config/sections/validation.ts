import { CONFIG_DEFAULTS } from '../defaults.js';
import type { TableReader } from '../table-reader.js';
import { duration } from '../value-keys.js';

/** When the daemon runs `validation.command` on an unvalidated firmware. */
export type ValidationTrigger = 'connected' | 'manual';

export interface ValidationConfig {
  /** Marks the running firmware good; absent: the daemon only reports the firmware's state. */
  readonly command?: readonly string[];
  /** "connected": after the first join on an unvalidated firmware and a passing health check; "manual": never by itself. */
  readonly when: ValidationTrigger;
  /** Exit 0 = healthy; tried until it passes or the deadline comes. */
  readonly healthCheck?: readonly string[];
  /** How long a firmware may stay unvalidated, counted from the daemon's first start on it. */
  readonly deadlineMs?: number;
  /** Boots the previous firmware at the deadline (the reboot follows). */
  readonly revertCommand?: readonly string[];
}

/**
 * `[validation]`: how an updated firmware is committed once it has proven itself, or rolled back (the deadline
 * needs the revert command: without it the daemon could only watch the deadline pass).
 */
export function readValidation(validation: TableReader): ValidationConfig {
  const command = validation.command('command');
  const when =
    validation.oneOf('when', ['connected', 'manual'] as const, CONFIG_DEFAULTS.validationWhen) ??
    CONFIG_DEFAULTS.validationWhen;
  const healthCheck = validation.command('health_check');
  // 0: no deadline (the key is absent).
  const deadlineMs = duration(validation, 'deadline', 0, { min: 1000, max: 30 * 86_400_000 });
  const revertCommand = validation.command('revert_command');
  if (deadlineMs > 0 && !validation.has('revert_command')) {
    validation.problem(
      'deadline',
      'needs validation.revert_command, the command that boots the previous firmware, e.g. ' +
        '["fwup", "-a", "-d", "/dev/mmcblk0", "-i", "/usr/share/fwup/ops.fw", "-t", "revert", "-q", "-U"]',
    );
  }
  validation.rejectUnknown();
  return {
    ...(command ? { command } : {}),
    when,
    ...(healthCheck ? { healthCheck } : {}),
    ...(deadlineMs > 0 ? { deadlineMs } : {}),
    ...(revertCommand ? { revertCommand } : {}),
  };
}
