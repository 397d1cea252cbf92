export type DaemonErrorCode =
  | 'CONFIG_NOT_FOUND'
  | 'CONFIG_UNREADABLE'
  | 'CONFIG_SYNTAX'
  | 'CONFIG_INVALID'
  | 'DAEMON_LOCKED'
  | 'DAEMON_USAGE'
  | 'DAEMON_CHECK_FAILED'
  | 'DAEMON_COMMAND_FAILED';

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
