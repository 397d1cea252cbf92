/**
 * The programs the config names that run later (the reboot and identify commands, the hooks, validation's), looked
 * up at start: a program that is not there is the config's to fix (exit 78, naming the key), not a failure to retry
 * in the middle of an update, at the reboot or at the validation deadline. The metadata and identifier commands run at start anyway and say so
 * themselves.
 */
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';
import type { Config } from '../config/config.js';
import { HOOK_KEYS } from '../config/sections/hooks.js';

export interface ConfiguredProgram {
  /** The config key, e.g. `hooks.before_apply`. */
  readonly key: string;
  readonly program: string;
}

/** Every program the config names for later, with its key. */
export function configuredPrograms(config: Config): ConfiguredProgram[] {
  const programs: ConfiguredProgram[] = [{ key: 'commands.reboot', program: config.commands.reboot[0]! }];
  if (config.commands.identify)
    programs.push({ key: 'commands.identify', program: config.commands.identify[0]! });
  for (const [field, name] of HOOK_KEYS) {
    const command = config.hooks[field];
    if (command) programs.push({ key: `hooks.${name}`, program: command[0]! });
  }
  const { command, healthCheck, revertCommand } = config.validation;
  for (const [key, argv] of [
    ['validation.command', command],
    ['validation.health_check', healthCheck],
    ['validation.revert_command', revertCommand],
  ] as const) {
    if (argv) programs.push({ key, program: argv[0]! });
  }
  return programs;
}

/** A problem line for each configured program that cannot be run: `hooks.on_error: "/opt/x" is not …`. */
export function missingPrograms(config: Config, path: string | undefined = process.env.PATH): string[] {
  return configuredPrograms(config)
    .filter(({ program }) => !runnable(program, path))
    .map(({ key, program }) =>
      program.includes('/')
        ? `${key}: "${program}" is not an executable file (check the path, or install it)`
        : `${key}: "${program}" is not found on PATH (install it, or give its absolute path)`,
    );
}

/** Whether `program` names an executable file, as execvp would find it. */
export function runnable(program: string, path: string | undefined = process.env.PATH): boolean {
  const candidates = program.includes('/')
    ? [program]
    : (path ?? '')
        .split(delimiter)
        .filter(Boolean)
        .map((dir) => join(dir, program));
  return candidates.some((candidate) => {
    try {
      accessSync(candidate, constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
}
