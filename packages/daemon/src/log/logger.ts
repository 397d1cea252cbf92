import { boundLength, shown } from '@nerves-hub-link/message-text';
import { isJournalStream, SYSLOG_PRIORITY } from './journal-stream.js';
import { LOG_FIELDS_MAX_CHARS, LOG_MESSAGE_MAX_CHARS } from './log-bounds.js';
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
  /** True when `progress()` draws a live line (human format on a terminal); else progress goes in log lines. */
  readonly live: boolean;
  /**
   * Shows a live progress line on a terminal (human format only), redrawn in place; a log line written meanwhile
   * replaces it and the progress line is drawn again below. Elsewhere it does nothing: progress is logged at
   * milestones instead (see update/progress-display.ts) and reported to the server.
   */
  progress(label: string, percent: number | undefined, detail?: string): void;
  /** Clears the progress line started by `progress`. */
  progressDone(): void;
}

export interface LoggerOptions {
  readonly format?: 'human' | 'json';
  /** @default 'info' */
  readonly level?: LogLevel;
  /** @default process.stderr */
  readonly stream?: NodeJS.WritableStream & { isTTY?: boolean };
  /** Whether the stream is a terminal, which makes progress a live line. @default stream.isTTY */
  readonly isTTY?: boolean;
  /** @default Date.now */
  readonly now?: () => number;
  /**
   * Whether the stream is journald's: then every line starts with its syslog priority (`<4>` for a warning), which
   * journald takes as the entry's priority. @default true when the stream is stderr and `$JOURNAL_STREAM` names it
   */
  readonly journal?: boolean;
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
  const live = format === 'human' && (options.isTTY ?? stream.isTTY) === true;
  const journal = options.journal ?? (stream === process.stderr && isJournalStream(2));
  const prefix = (level: LogLevel) => (journal ? `<${SYSLOG_PRIORITY[level]}>` : '');
  /** The live progress line as drawn last, while one is shown. */
  let progressLine: string | undefined;

  const clean = (text: string) => redact(text, secrets);
  // Redacted before it is cut, so a cut never leaves half a secret; escaped so no text forges a line.
  const printed = (text: string, max: number) => shown(clean(text), max);
  const jsonValue = (key: string, value: unknown) =>
    typeof value === 'string' ? boundLength(clean(value), LOG_MESSAGE_MAX_CHARS) : jsonSafe(key, value);

  function write(level: LogLevel, message: string, fields?: LogFields): void {
    if (LEVELS[level] < threshold) return;
    // The line takes the place of the progress line, which is drawn again below it.
    if (progressLine !== undefined) stream.write('\r\x1b[K');
    if (format === 'json') {
      // JSON escapes control characters itself; strings are still bounded.
      const record = { time: new Date(now()).toISOString(), level, msg: message, ...fields };
      stream.write(`${prefix(level)}${clean(JSON.stringify(record, jsonValue))}\n`);
      return;
    }
    const time = new Date(now()).toISOString().slice(11, 23);
    const extra =
      fields && Object.keys(fields).length > 0
        ? ` ${printed(formatFields(fields), LOG_FIELDS_MAX_CHARS)}`
        : '';
    stream.write(
      `${prefix(level)}${time} ${level.toUpperCase().padEnd(5)} ${printed(message, LOG_MESSAGE_MAX_CHARS)}${extra}\n`,
    );
    if (progressLine !== undefined) stream.write(progressLine);
  }

  return {
    debug: (message, fields) => write('debug', message, fields),
    info: (message, fields) => write('info', message, fields),
    warn: (message, fields) => write('warn', message, fields),
    error: (message, fields) => write('error', message, fields),
    addSecret(value) {
      if (value && value.length >= 4) secrets.add(value);
    },
    live,
    progress(label, percent, detail) {
      if (!live) return;
      const bar =
        percent === undefined
          ? ''
          : `${'█'.repeat(Math.round((percent / 100) * BAR_WIDTH)).padEnd(BAR_WIDTH, '░')} ${String(percent).padStart(3)}% `;
      progressLine = `\r\x1b[K${label} ${bar}${detail ? clean(detail) : ''}`;
      stream.write(progressLine);
    },
    progressDone() {
      if (progressLine === undefined) return;
      stream.write('\r\x1b[K');
      progressLine = undefined;
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
