/** Every code a daemon error carries; the package README says what each means. Match `code`, not the message. */
export const DAEMON_ERROR_CODES = [
  /** No config file where `--config`, `NERVES_HUB_LINK_CONFIG` or the default path points. */
  'CONFIG_NOT_FOUND',
  /** The config file exists but cannot be read (permissions). */
  'CONFIG_UNREADABLE',
  /** The config file is not valid TOML. */
  'CONFIG_SYNTAX',
  /** A key is wrong, or what it names cannot work (a file, a key that does not match, no device to write). */
  'CONFIG_INVALID',
  /** Another daemon holds the lock of this `data_dir`. */
  'DAEMON_LOCKED',
  /** The command line is wrong. */
  'DAEMON_USAGE',
  /** `check` found a problem. */
  'DAEMON_CHECK_FAILED',
  /** A configured command (reboot, identify) failed, timed out or could not start. */
  'DAEMON_COMMAND_FAILED',
] as const;

export type DaemonErrorCode = (typeof DAEMON_ERROR_CODES)[number];

/** Base class of every error the daemon itself raises. Callers branch on `code`. */
export class DaemonError extends Error {
  override name = 'DaemonError';
  readonly code: DaemonErrorCode;

  constructor(code: DaemonErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }
}

/** A configuration problem. `problems` lists every key that is wrong, each with its fix. */
export class ConfigError extends DaemonError {
  override name = 'ConfigError';
  readonly file: string;
  readonly problems: readonly string[];

  constructor(
    code: DaemonErrorCode,
    file: string,
    problems: readonly string[],
    options?: { cause?: unknown },
  ) {
    const head =
      problems.length === 1 ? problems[0] : `${problems.length} problems:\n  - ${problems.join('\n  - ')}`;
    super(code, `${file}: ${head}`, options);
    this.file = file;
    this.problems = problems;
  }
}

/** Ends the process with `exitCode` after `message` is logged; thrown only by commands. */
export class ExitError extends DaemonError {
  override name = 'ExitError';
  readonly exitCode: number;

  constructor(exitCode: number, message: string, options?: { cause?: unknown; code?: DaemonErrorCode }) {
    super(options?.code ?? 'DAEMON_CHECK_FAILED', message, options);
    this.exitCode = exitCode;
  }
}
