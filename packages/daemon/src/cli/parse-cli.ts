import { parseArgs } from 'node:util';
import { DaemonError } from '../errors/daemon-errors.js';
import type { LogLevel } from '../log/logger.js';

export type CommandName = 'run' | 'check' | 'status' | 'validate' | 'help' | 'version';

export interface CliOptions {
  readonly command: CommandName;
  readonly configFlag?: string;
  readonly logFormat?: 'human' | 'json';
  readonly logLevel?: LogLevel;
  /** `status --json`: the status as one JSON document. */
  readonly json?: boolean;
}

export const HELP = `Usage: nerves-hub-link <command> [options]

Commands:
  run      connect to NervesHub and apply firmware updates (the daemon)
  check    validate the config, resolve identifier and metadata, check fwup and
           certificates, connect and join once, print the join payload; exits
           non-zero with the reason on any problem
  status   print what the running daemon is doing (connection, firmware, update,
           last result, next attempt) from its status file; exit 0 when it runs
           and is connected, 2 when it runs but is not connected, 3 when it is
           not running, 4 when its state cannot be read
  validate run validation.command by hand (as RAUC's mark-good): exit 0 once the
           running firmware reads validated; the running daemon tells NervesHub

Options:
  -c, --config PATH        config file (default: $NERVES_HUB_LINK_CONFIG or
                           /etc/nerves-hub-link/config.toml)
      --log-format FORMAT  human (default) or json
      --log-level LEVEL    debug, info (default), warn or error
      --json               status: print JSON instead of text
  -h, --help               show this help
  -v, --version            print the version
`;

export function parseCli(argv: readonly string[]): CliOptions {
  let parsed: ReturnType<typeof parse>;
  try {
    parsed = parse(argv);
  } catch (error) {
    throw new DaemonError('DAEMON_USAGE', `${(error as Error).message}\n\n${HELP}`);
  }
  const { values, positionals } = parsed;
  if (values.help) return { command: 'help' };
  if (values.version) return { command: 'version' };
  const [command, ...rest] = positionals;
  if (command === undefined) throw new DaemonError('DAEMON_USAGE', `missing command\n\n${HELP}`);
  if (command !== 'run' && command !== 'check' && command !== 'status' && command !== 'validate') {
    throw new DaemonError('DAEMON_USAGE', `unknown command "${command}"\n\n${HELP}`);
  }
  if (rest.length > 0) throw new DaemonError('DAEMON_USAGE', `unexpected argument "${rest[0]}"\n\n${HELP}`);
  if (values.json && command !== 'status') {
    throw new DaemonError('DAEMON_USAGE', '--json is an option of the status command');
  }
  const logFormat = values['log-format'];
  if (logFormat !== undefined && logFormat !== 'human' && logFormat !== 'json') {
    throw new DaemonError('DAEMON_USAGE', `--log-format: expected human or json, got "${logFormat}"`);
  }
  const logLevel = values['log-level'];
  if (logLevel !== undefined && !['debug', 'info', 'warn', 'error'].includes(logLevel)) {
    throw new DaemonError(
      'DAEMON_USAGE',
      `--log-level: expected debug, info, warn or error, got "${logLevel}"`,
    );
  }
  return {
    command,
    ...(values.config !== undefined ? { configFlag: values.config } : {}),
    ...(logFormat !== undefined ? { logFormat } : {}),
    ...(logLevel !== undefined ? { logLevel: logLevel as LogLevel } : {}),
    ...(values.json ? { json: true } : {}),
  };
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
