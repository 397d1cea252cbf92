import { readFileSync, renameSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { REASON_MAX_CHARS, shown, VALUE_MAX_CHARS } from '@nerves-hub-link/message-text';
import type { Logger } from '../log/logger.js';
import { redact } from '../log/redact.js';
import type { NextAttempt } from '../update/events.js';
import type { UpdateFacts } from '../update/facts.js';
import type { UpdateObserver } from '../update/observer.js';
import type { ResultStatus, UpdateStage } from '../update/stage.js';
import type { ValidationStatus } from '../validation/validator.js';

/** The local status file in `data_dir`, read by `nerves-hub-link status` and by anything else on the device. */
export const STATE_FILE = 'status.json';
export const STATE_FORMAT = 1;

export type ConnectionState = 'connecting' | 'connected' | 'joined' | 'disconnected' | 'stopped';

interface FirmwareRef {
  readonly uuid: string | null;
  readonly version: string | null;
}

/** The file's content (snake_case, like the rest of the wire and config). Times are ISO 8601 UTC. */
export interface DaemonState {
  readonly format: typeof STATE_FORMAT;
  readonly pid: number;
  readonly started_at: string;
  readonly updated_at: string;
  readonly identifier: string;
  readonly connection: {
    readonly state: ConnectionState;
    /** Scheme, host and path only. */
    readonly server: string;
    readonly since: string;
  };
  readonly firmware: FirmwareRef;
  readonly update:
    | (FirmwareRef & {
        readonly deployment_id: number | null;
        readonly stage: UpdateStage;
        readonly percent: number | null;
        readonly since: string;
      })
    | null;
  readonly last_result:
    | (FirmwareRef & { readonly status: ResultStatus; readonly reason: string | null; readonly at: string })
    | null;
  /** A rescheduled update: when it is asked about again, and by whom. */
  readonly next_attempt:
    | (FirmwareRef & {
        /** When NervesHub's block ends (deployments) or the device asks again; null when nobody will by itself. */
        readonly at: string | null;
        /** When the daemon re-asks on its own with the offer it has; null when it does not. */
        readonly local_retry_at: string | null;
        readonly note: string;
      })
    | null;
  /** A reboot that is due but not done: postponed by hooks.before_reboot, or left to the device. */
  readonly reboot: { readonly reason: string; readonly at: string | null } | null;
  /** The running firmware's validation: its state, what happens next, and the last roll-back. */
  readonly validation: ValidationStatus | null;
}

const PROGRESS_WRITE_INTERVAL_MS = 1_000;
/**
 * While nothing changes, the file's modification time is still moved this often, so that `status` can tell a
 * daemon that stopped moving (SIGSTOP, a hung process) from one that has nothing new to say.
 */
export const STATE_HEARTBEAT_MS = 15_000;
/** `status` calls a daemon whose file has not moved for this long not responding. */
export const STATE_STALE_AFTER_MS = 4 * STATE_HEARTBEAT_MS;

/**
 * Keeps the status file current. Text from outside (a version, a uuid, a reason) is redacted like log lines,
 * control characters escaped and cut to a bound (message-text's `shown`: a value to 300 characters, a reason to
 * 600), so the file stays small and `cat` or `jq -r` of it cannot drive a terminal. Every write replaces the file
 * atomically (a temporary file renamed over it), so a reader sees the old or the new content, never half of one;
 * a write that would change nothing but the time is not made, progress alone is written at most once a second,
 * and while nothing changes the modification time moves every STATE_HEARTBEAT_MS. Failing to write is logged
 * once and never stops the daemon.
 */
export class StateFile implements UpdateObserver {
  readonly #path: string;
  readonly #now: () => number;
  readonly #logger: Logger;
  #state: DaemonState;
  #lastWrite = 0;
  readonly #heartbeatMs: number;
  #pendingWrite: NodeJS.Timeout | undefined;
  #heartbeat: NodeJS.Timeout | undefined;
  /** What was written last, but for `updated_at`. */
  #written: string | undefined;
  #warned = false;

  constructor(
    dataDir: string,
    initial: { identifier: string; server: string; firmware: { uuid?: string; version?: string } },
    options: { logger: Logger; now?: () => number; heartbeatMs?: number },
  ) {
    this.#path = join(dataDir, STATE_FILE);
    this.#now = options.now ?? Date.now;
    this.#logger = options.logger;
    this.#heartbeatMs = options.heartbeatMs ?? STATE_HEARTBEAT_MS;
    const now = this.#iso();
    // What the last run ended with stays visible across restarts (after an update: across the reboot).
    const previous = readStateFile(dataDir);
    this.#state = {
      format: STATE_FORMAT,
      pid: process.pid,
      started_at: now,
      updated_at: now,
      identifier: value(initial.identifier),
      connection: { state: 'connecting', server: value(initial.server), since: now },
      firmware: ref(initial.firmware),
      update: null,
      last_result: previous.kind === 'ok' ? (previous.state.last_result ?? null) : null,
      next_attempt: null,
      reboot: null,
      validation: null,
    };
  }

  get state(): DaemonState {
    return this.#state;
  }

  connection(state: ConnectionState): void {
    if (state === this.#state.connection.state) return;
    this.#set({ connection: { ...this.#state.connection, state, since: this.#iso() } });
  }

  /** An update moved to `stage`; `percent` for the download and the apply. */
  stage(update: UpdateFacts, stage: UpdateStage, percent?: number): void {
    const current = this.#state.update;
    if (current && current.uuid === update.uuid && current.stage === stage) {
      if (percent === undefined || percent === current.percent) return;
      const throttled = percent < 100 && this.#now() - this.#lastWrite < PROGRESS_WRITE_INTERVAL_MS;
      this.#set({ update: { ...current, percent } }, throttled);
      return;
    }
    this.#set({
      update: {
        ...ref(update),
        deployment_id: update.deploymentId ?? null,
        stage,
        percent: percent ?? null,
        since: current && current.uuid === update.uuid ? current.since : this.#iso(),
      },
    });
  }

  /** The update ended with a final status: it is no longer current. */
  result(update: UpdateFacts, status: ResultStatus, reason?: string): void {
    this.#set({
      update: null,
      last_result: {
        ...ref(update),
        status,
        reason: reason === undefined ? null : text(reason),
        at: this.#iso(),
      },
      ...(status === 'rescheduled' ? {} : { next_attempt: null }),
    });
  }

  /** The update stopped without a status (the daemon is stopping, or the server asked for a reboot). */
  dropped(): void {
    this.#set({ update: null });
  }

  nextAttempt(attempt: NextAttempt | undefined): void {
    this.#set({
      next_attempt: attempt
        ? {
            ...ref(attempt.update),
            at: attempt.at === undefined ? null : iso(attempt.at),
            local_retry_at: attempt.localRetryAt === undefined ? null : iso(attempt.localRetryAt),
            note: text(attempt.note),
          }
        : null,
    });
  }

  reboot(pending: { why: string; at?: number } | undefined): void {
    this.#set({
      reboot: pending
        ? { reason: text(pending.why), at: pending.at === undefined ? null : iso(pending.at) }
        : null,
    });
  }

  validation(status: ValidationStatus): void {
    const reverted = status.last_revert;
    this.#set({
      validation: {
        ...status,
        note: text(status.note),
        last_revert: reverted ? { ...reverted, reason: text(reverted.reason) } : null,
      },
    });
  }

  /** Writes the file as it is now: the daemon started. From now on its modification time keeps moving. */
  open(): void {
    this.#write();
    clearInterval(this.#heartbeat);
    this.#heartbeat = setInterval(() => this.#beat(), this.#heartbeatMs);
    this.#heartbeat.unref();
  }

  /** The daemon is leaving: the last write. */
  close(): void {
    clearInterval(this.#heartbeat);
    this.#heartbeat = undefined;
    this.#set({ connection: { ...this.#state.connection, state: 'stopped', since: this.#iso() } });
    this.flush();
  }

  /** Writes a throttled change now. */
  flush(): void {
    if (this.#pendingWrite) this.#write();
  }

  #set(patch: Partial<DaemonState>, throttled = false): void {
    this.#state = { ...this.#state, ...patch };
    if (!throttled) {
      this.#write();
      return;
    }
    if (this.#pendingWrite) return;
    const wait = PROGRESS_WRITE_INTERVAL_MS - (this.#now() - this.#lastWrite);
    this.#pendingWrite = setTimeout(() => this.#write(), Math.max(0, wait));
    this.#pendingWrite.unref();
  }

  #write(): void {
    clearTimeout(this.#pendingWrite);
    this.#pendingWrite = undefined;
    const content = JSON.stringify({ ...this.#state, updated_at: undefined });
    if (content === this.#written) return;
    this.#lastWrite = this.#now();
    this.#state = { ...this.#state, updated_at: iso(this.#lastWrite) };
    const temporary = `${this.#path}.${process.pid}.tmp`;
    try {
      writeFileSync(temporary, `${JSON.stringify(this.#state, null, 2)}\n`, { mode: 0o644 });
      renameSync(temporary, this.#path);
      this.#written = content;
    } catch (error) {
      this.#failed(error);
    }
  }

  /** Nothing changed for a while: only the modification time moves, telling `status` the daemon is alive. */
  #beat(): void {
    if (this.#now() - this.#lastWrite < this.#heartbeatMs / 2) return;
    this.#lastWrite = this.#now();
    const at = new Date(this.#lastWrite);
    try {
      utimesSync(this.#path, at, at);
    } catch (error) {
      this.#failed(error);
    }
  }

  #failed(error: unknown): void {
    if (this.#warned) return;
    this.#warned = true;
    this.#logger.warn(`could not write the status file ${this.#path}: ${(error as Error).message}`);
  }

  #iso(): string {
    return iso(this.#now());
  }
}

export type ReadState =
  | { readonly kind: 'ok'; readonly state: DaemonState }
  | { readonly kind: 'missing' }
  | { readonly kind: 'unreadable'; readonly reason: string };

export function readStateFile(dataDir: string): ReadState {
  const path = join(dataDir, STATE_FILE);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return { kind: 'missing' };
    return { kind: 'unreadable', reason: `${path}: ${code ?? (error as Error).message}` };
  }
  try {
    const state = JSON.parse(text) as DaemonState;
    if (state?.format !== STATE_FORMAT) {
      return {
        kind: 'unreadable',
        reason: `${path}: unknown format ${shown(JSON.stringify(state?.format) ?? '')}`,
      };
    }
    // Whoever wrote it (an older daemon, anyone who can write data_dir), no string of it reaches a terminal raw.
    return { kind: 'ok', state: printable(state) as DaemonState };
  } catch (error) {
    return { kind: 'unreadable', reason: `${path}: ${(error as Error).message}` };
  }
}

function ref(firmware: { uuid?: string; version?: string }): FirmwareRef {
  return {
    uuid: firmware.uuid === undefined ? null : value(firmware.uuid),
    version: firmware.version === undefined ? null : value(firmware.version),
  };
}

/** One value from outside (a uuid, a version, an identifier), as the file holds it. */
function value(text: string): string {
  return shown(redact(text), VALUE_MAX_CHARS);
}

/** A reason or a note, as the file holds it. */
function text(reason: string): string {
  return shown(redact(reason), REASON_MAX_CHARS);
}

/** Every string of a parsed file escaped and bounded. */
function printable(parsed: unknown): unknown {
  if (typeof parsed === 'string') return shown(parsed, REASON_MAX_CHARS);
  if (Array.isArray(parsed)) return parsed.map(printable);
  if (typeof parsed === 'object' && parsed !== null) {
    return Object.fromEntries(Object.entries(parsed).map(([key, each]) => [shown(key), printable(each)]));
  }
  return parsed;
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}
