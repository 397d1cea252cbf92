/**
 * `fw_printenv` and `fw_setenv` as Debian's libubootenv-tool 0.3.2 behaves on a non-redundant environment, for
 * machines without it (the demo; tests use the real tools and compare): the same output, messages and exit codes,
 * and the same variables written (the layout of ../fake-fwup/uboot-env.ts; after a removal the real fw_setenv leaves
 * stale bytes behind the end of the entries where this one pads with 0xff, which no reader sees).
 */
import { closeSync, openSync, readFileSync, readSync, writeSync } from 'node:fs';
import { decodeUbootEnv, encodeUbootEnv, type UbootVariables } from '../fake-fwup/uboot-env.js';
import { type EnvLocation, readEnvConfig } from './env-config.js';

export interface ToolIo {
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
}

const DEFAULT_CONFIG = '/etc/fw_env.config';
// What libubootenv 0.3.2 exits with (its negative errno codes, as a byte): seen with the real tools.
const EXIT_NO_ENVIRONMENT = 243;
const EXIT_BAD_CONFIG = 247;

/** `fw_printenv [-c CONFIG] [-n] [name…]`. Returns the exit code. */
export function printenv(argv: readonly string[], io: ToolIo): number {
  const { config, valueOnly, rest } = options(argv);
  const opened = openEnvironment(config, io);
  if (typeof opened === 'number') return opened;
  const { variables } = opened;
  if (rest.length === 0) {
    for (const name of [...variables.keys()]) io.stdout(`${name}=${variables.get(name)}\n`);
    return 0;
  }
  for (const name of rest) {
    // libubootenv 0.3.2 prints an unset name with an empty value, and exits 0.
    const value = variables.get(name) ?? '';
    io.stdout(valueOnly ? `${value}\n` : `${name}=${value}\n`);
  }
  return 0;
}

/** `fw_setenv [-c CONFIG] [-s SCRIPT] [name [value…]]`: a name without a value removes it. */
export function setenv(argv: readonly string[], io: ToolIo): number {
  const { config, script, rest } = options(argv);
  const opened = openEnvironment(config, io);
  if (typeof opened === 'number') return opened;
  const { variables, location } = opened;
  if (script !== undefined) {
    // Lines `name=value` (a line without `=` is not a setting; `#` starts a comment).
    for (const line of readFileSync(script, 'utf8').split('\n')) {
      if (line.startsWith('#')) continue;
      const at = line.indexOf('=');
      if (at <= 0) continue;
      const name = line.slice(0, at);
      const value = line.slice(at + 1);
      if (value === '') variables.delete(name);
      else variables.set(name, value);
    }
  } else if (rest.length > 0) {
    // libubootenv 0.3.2 takes the first word after the name as the value and drops the others.
    const [name, value] = rest;
    if (value === undefined) variables.delete(name!);
    else variables.set(name!, value);
  }
  const block = encodeUbootEnv(variables, location.size);
  const fd = openSync(location.device, 'r+');
  try {
    writeSync(fd, block, 0, block.length, location.offset);
  } finally {
    closeSync(fd);
  }
  return 0;
}

function options(argv: readonly string[]): {
  config: string;
  valueOnly: boolean;
  script?: string;
  rest: string[];
} {
  let config = DEFAULT_CONFIG;
  let valueOnly = false;
  let script: string | undefined;
  const rest: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '-c' || arg === '--config') config = argv[++i] ?? config;
    else if (arg === '-n' || arg === '--noheader') valueOnly = true;
    else if (arg === '-s' || arg === '--script') script = argv[++i];
    else rest.push(arg);
  }
  return { config, valueOnly, ...(script !== undefined ? { script } : {}), rest };
}

function openEnvironment(
  config: string,
  io: ToolIo,
): { variables: UbootVariables; location: EnvLocation } | number {
  const location = readEnvConfig(config);
  if (!location) {
    io.stderr('Configuration file wrong or corrupted\n');
    return EXIT_BAD_CONFIG;
  }
  const block = Buffer.alloc(location.size);
  try {
    const fd = openSync(location.device, 'r');
    try {
      readSync(fd, block, 0, block.length, location.offset);
    } finally {
      closeSync(fd);
    }
    return { variables: decodeUbootEnv(block, 0), location };
  } catch {
    io.stderr('Cannot read environment, using default\nCannot read default environment from file\n');
    return EXIT_NO_ENVIRONMENT;
  }
}
