import { CONFIG_DEFAULTS } from '../defaults.js';
import type { TableReader } from '../table-reader.js';

export interface CommandsConfig {
  readonly reboot: readonly string[];
  readonly identify?: readonly string[];
  readonly timeoutMs: number;
}

/** `[commands]`: what reboots the device, and what makes it findable when the server asks it to identify. */
export function readCommands(commands: TableReader): CommandsConfig {
  const reboot = commands.command('reboot') ?? [...CONFIG_DEFAULTS.rebootCommand];
  // `identify = ""` (as in the example config) means: no identify command.
  const identify = commands.raw('identify') === '' ? undefined : commands.command('identify');
  const timeoutMs = commands.integer(
    'timeout_ms',
    CONFIG_DEFAULTS.commandTimeoutMs,
    100,
    600_000,
    'milliseconds',
  );
  commands.rejectUnknown();
  return identify ? { reboot, identify, timeoutMs } : { reboot, timeoutMs };
}
