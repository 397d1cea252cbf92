import { parseArgs } from 'node:util';
import { DaemonError } from '../errors/daemon-errors.js';
import type { LogLevel } from '../log/logger.js';

/** The commands that do work; `help` and `version` only print. */
export type WorkCommand = 'run' | 'check' | 'status' | 'validate';
export type CommandName = WorkCommand | 'help' | 'version';

export interface CliOptions {
  readonly command: CommandName;
  /** `help`: the command whose help to print (`nerves-hub-link run --help`, `help run`); none: the overview. */
  readonly helpFor?: WorkCommand;
  readonly configFlag?: string;
  readonly logFormat?: 'human' | 'json';
  readonly logLevel?: LogLevel;
  /** `status --json`, `check --json`: one JSON document instead of text. */
  readonly json?: boolean;
}

const CONFIG_OPTION = `  -c, --config PATH        config file (default: $NERVES_HUB_LINK_CONFIG or
                           /etc/nerves-hub-link/config.toml)`;
const LOG_OPTIONS = `      --log-format FORMAT  human (default) or json
      --log-level LEVEL    debug, info (default), warn or error`;

export const HELP = `Usage: nerves-hub-link <command> [options]

Commands:
  run      connect to NervesHub and apply firmware updates (the daemon)
  check    check the config and everything it names, then join NervesHub once;
           every problem in one run
  status   print what the running daemon is doing; its exit code is a health check
  validate run validation.command by hand (as RAUC's mark-good): exit 0 once the
           running firmware reads validated; the running daemon tells NervesHub
  help [COMMAND]  this help, or a command's
  version  print the version

Options:
${CONFIG_OPTION}
${LOG_OPTIONS}
      --json               check, status: print JSON instead of text
  -h, --help               show this help (after a command: that command's)
  -v, --version            print the version

nerves-hub-link COMMAND --help says more about each command.
`;

export const COMMAND_HELP: Readonly<Record<WorkCommand, string>> = {
  run: `Usage: nerves-hub-link run [--config PATH] [--log-format FORMAT] [--log-level LEVEL]

The daemon: loads the config, takes the lock in data_dir, connects to NervesHub and stays
connected, applies the firmware updates it is offered and reboots. Logs go to stderr. Under
systemd (Type=notify) it says when it is ready, what it is doing and that it is alive.

Options:
${CONFIG_OPTION}
${LOG_OPTIONS}

Exit codes: 0 stopped or rebooting, 1 failure, 64 usage, 78 configuration (systemd does not
restart it).
`,
  check: `Usage: nerves-hub-link check [--config PATH] [--json]

Checks, in one run, and says every problem it finds, one line each: the config, the files it
names, the commands and hooks, data_dir (writable, free space), fwup, the firmware metadata,
the identifier; then connects and joins NervesHub once, as \`run\` would, and prints the join
payload. That join is a real device join: NervesHub records it and may offer an update, which
check reports and does not take.

Options:
${CONFIG_OPTION}
${LOG_OPTIONS}
      --json               one JSON document: every check as an object, the exit code,
                           the join payload

Exit codes: 0 everything works (warnings aside), 1 a problem that is not the config's,
69 NervesHub could not be joined, 78 the configuration has a problem.
`,
  status: `Usage: nerves-hub-link status [--config PATH] [--json]

What the daemon using this config's data_dir is doing, from its status file: connection,
firmware, update, last result, next attempt.

Options:
${CONFIG_OPTION}
      --json               the status as one JSON document

Exit codes: 0 running and connected, 2 running but not connected, 3 not running,
4 cannot tell (the lock or the status file cannot be read), 78 the config is invalid.
`,
  validate: `Usage: nerves-hub-link validate [--config PATH]

Marks the running firmware good by hand, as RAUC's mark-good does: runs validation.command,
then reads the firmware metadata again. The running daemon notices within 10 s and tells
NervesHub.

Options:
${CONFIG_OPTION}

Exit codes: 0 the running firmware reads validated (or already did), 1 the command failed or
the firmware still reads unvalidated, 78 no validation.command in the config.
`,
};

const WORK_COMMANDS: readonly string[] = ['run', 'check', 'status', 'validate'];
const usage = (message: string) => new DaemonError('DAEMON_USAGE', `${message} (try --help)`);

export function parseCli(argv: readonly string[]): CliOptions {
  let parsed: ReturnType<typeof parse>;
  try {
    parsed = parse(argv);
  } catch (error) {
    throw usage(shortParseError(error as Error & { code?: string }));
  }
  const { values, positionals } = parsed;
  const [command, ...rest] = positionals;
  if (command === 'help' || (values.help && (command === undefined || WORK_COMMANDS.includes(command)))) {
    const topic = command === 'help' ? rest[0] : command;
    if (topic !== undefined && !WORK_COMMANDS.includes(topic)) throw usage(`no help for '${topic}'`);
    if (command === 'help' && rest.length > 1) throw usage(`unexpected argument '${rest[1]}'`);
    return topic === undefined ? { command: 'help' } : { command: 'help', helpFor: topic as WorkCommand };
  }
  if (command === 'version' || values.version) {
    if (command === 'version' && rest.length > 0) throw usage(`unexpected argument '${rest[0]}'`);
    return { command: 'version' };
  }
  if (command === undefined) throw usage('missing command: run, check, status or validate');
  if (!WORK_COMMANDS.includes(command)) throw usage(`unknown command '${command}'`);
  if (rest.length > 0) throw usage(`unexpected argument '${rest[0]}'`);
  if (values.json && command === 'run') throw usage('--json is an option of check and status');
  const logFormat = values['log-format'];
  if (logFormat !== undefined && logFormat !== 'human' && logFormat !== 'json') {
    throw usage(`--log-format: expected human or json, got '${logFormat}'`);
  }
  const logLevel = values['log-level'];
  if (logLevel !== undefined && !['debug', 'info', 'warn', 'error'].includes(logLevel)) {
    throw usage(`--log-level: expected debug, info, warn or error, got '${logLevel}'`);
  }
  return {
    command: command as WorkCommand,
    ...(values.config !== undefined ? { configFlag: values.config } : {}),
    ...(logFormat !== undefined ? { logFormat } : {}),
    ...(logLevel !== undefined ? { logLevel: logLevel as LogLevel } : {}),
    ...(values.json ? { json: true } : {}),
  };
}

/** parseArgs's message in a line: its advice about positional arguments does not apply to these commands. */
function shortParseError(error: Error & { code?: string }): string {
  switch (error.code) {
    case 'ERR_PARSE_ARGS_UNKNOWN_OPTION': {
      const option = /option '([^']+)'/i.exec(error.message)?.[1];
      return option ? `unknown option '${option}'` : error.message;
    }
    case 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE': {
      // "Option '-c, --config <value>' argument missing"
      const option = /(--[\w-]+)/.exec(error.message)?.[1];
      return option ? `option '${option}' needs a value` : error.message;
    }
    default:
      return error.message;
  }
}

function parse(argv: readonly string[]) {
  return parseArgs({
    args: [...argv],
    allowPositionals: true,
    strict: true,
    options: {
      config: { type: 'string', short: 'c' },
      'log-format': { type: 'string' },
      'log-level': { type: 'string' },
      json: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
      version: { type: 'boolean', short: 'v' },
    },
  });
}
