import { redact } from './redact.js';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
export type LogFields = Record<string, unknown>;

/** The logger shape every package accepts. */
export interface Logger {
  debug(message: string, fields?: LogFields): void;
  info(message: string, fields?: LogFields): void;
  warn(message: string, fields?: LogFields): void;
  error(message: string, fields?: LogFields): void;
}

export interface DaemonLogger extends Logger {
  /** Values (secrets, PINs) that must never reach the output, whatever message carries them. */
  addSecret(value: string | undefined): void;
  /**
   * Shows a live progress line on a terminal (human format only); elsewhere it does nothing, because
   * the same progress is logged at milestones and reported to the server.
   */
  progress(label: string, percent: number | undefined, detail?: string): void;
  /** Ends a progress line started by `progress`. */
  progressDone(): void;
}

export interface LoggerOptions {
  readonly format?: 'human' | 'json';
  /** @default 'info' */
  readonly level?: LogLevel;
  /** @default process.stderr */
  readonly stream?: NodeJS.WritableStream & { isTTY?: boolean };
  /** @default Date.now */
  readonly now?: () => number;
}

const LEVELS: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };
const BAR_WIDTH = 30;

/** Logs to stderr: readable lines by default, JSON lines for journald and log shippers. */
export function createLogger(options: LoggerOptions = {}): DaemonLogger {
  const stream = options.stream ?? process.stderr;
  const format = options.format ?? 'human';
  const threshold = LEVELS[options.level ?? 'info'];
  const now = options.now ?? Date.now;
  const secrets = new Set<string>();
  const live = format === 'human' && stream.isTTY === true;
  let progressShown = false;

  const clean = (text: string) => redact(text, secrets);

  function write(level: LogLevel, message: string, fields?: LogFields): void {
    if (LEVELS[level] < threshold) return;
    if (progressShown) {
      stream.write('\r\x1b[K');
      progressShown = false;
    }
    if (format === 'json') {
      const record = { time: new Date(now()).toISOString(), level, msg: message, ...fields };
      stream.write(`${clean(JSON.stringify(record, jsonSafe))}\n`);
      return;
    }
    const time = new Date(now()).toISOString().slice(11, 23);
    const extra = fields && Object.keys(fields).length > 0 ? ` ${formatFields(fields)}` : '';
    stream.write(`${time} ${level.toUpperCase().padEnd(5)} ${clean(message)}${clean(extra)}\n`);
  }

  return {
    debug: (message, fields) => write('debug', message, fields),
    info: (message, fields) => write('info', message, fields),
    warn: (message, fields) => write('warn', message, fields),
    error: (message, fields) => write('error', message, fields),
    addSecret(value) {
      if (value && value.length >= 4) secrets.add(value);
    },
    progress(label, percent, detail) {
      if (!live) return;
      const bar =
        percent === undefined
          ? ''
          : `${'█'.repeat(Math.round((percent / 100) * BAR_WIDTH)).padEnd(BAR_WIDTH, '░')} ${String(percent).padStart(3)}% `;
      stream.write(`\r\x1b[K${label} ${bar}${detail ? clean(detail) : ''}`);
      progressShown = true;
    },
    progressDone() {
      if (!progressShown) return;
      stream.write('\n');
      progressShown = false;
    },
  };
}

function formatFields(fields: LogFields): string {
  return Object.entries(fields)
    .map(
      ([key, value]) =>
        `${key}=${typeof value === 'string' && !/\s/.test(value) ? value : JSON.stringify(value, jsonSafe)}`,
    )
    .join(' ');
}

function jsonSafe(_key: string, value: unknown): unknown {
  if (value instanceof Error) {
    const code = (value as { code?: unknown }).code;
    return { name: value.name, message: value.message, ...(code !== undefined ? { code } : {}) };
  }
  if (typeof value === 'bigint') return value.toString();
  return value;
}
