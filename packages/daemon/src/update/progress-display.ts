/**
 * What a person watching the daemon sees of a download and of an apply. On a terminal: one live line per stage
 * (percent, bytes, rate, ETA), redrawn in place and cleared when the stage ends. Elsewhere (journald, JSON logs):
 * milestone lines with the numbers as fields, at most one per 10 % of progress and per 30 s, whichever is rarer,
 * so a slow download still shows life and a fast one does not flood the journal. Both end with one summary line.
 */
import type { DaemonLogger } from '../log/logger.js';
import type { UpdateListener } from './events.js';
import type { ProgressStage } from './stage.js';

/** What the log lines and the live line call each stage. */
const LABEL: Readonly<Record<ProgressStage, string>> = { downloading: 'download', applying: 'apply' };

/** Receives an update's progress from the update manager. */
export interface ProgressSink {
  /** A stage begins; `totalBytes` is the firmware size when known. */
  start(
    stage: ProgressStage,
    info: { readonly uuid: string; readonly totalBytes?: number | undefined },
  ): void;
  /** Progress within the stage: the percent, the bytes so far (apply: estimated from the percent), or both. */
  update(
    stage: ProgressStage,
    done: { readonly percent?: number | undefined; readonly bytes?: number },
  ): void;
  /** The stage ended: `done` logs the summary; `failed` or `stopped` only clears the live line. */
  end(stage: ProgressStage, outcome: 'done' | 'failed' | 'stopped'): void;
  /** The update ended early, in whatever stage: clears the live line. */
  cancel(): void;
}

export interface ProgressDisplayOptions {
  readonly logger: DaemonLogger;
  /** @default Date.now */
  readonly now?: () => number;
  /** Milestone spacing without a terminal. @default 10 */
  readonly milestonePercent?: number;
  /** @default 30000 */
  readonly milestoneMs?: number;
  /** Shortest time between two redraws of the live line. @default 100 */
  readonly redrawMs?: number;
  /**
   * The download's bandwidth cap (download.max_rate), in bytes per second. The cap holds over time, but the bytes
   * of one socket read arrive together (at the start, after each hold, at the end), so a rate measured over a
   * short download comes out above it: where it would, the cap is shown, marked as such.
   */
  readonly maxBytesPerSecond?: number | undefined;
}

/** The rate is measured over the last few seconds, so a stall or a retry shows soon. */
const RATE_WINDOW_MS = 5_000;

interface StageState {
  readonly stage: ProgressStage;
  readonly uuid: string;
  readonly totalBytes: number | undefined;
  readonly startedAt: number;
  samples: { at: number; bytes: number }[];
  percent: number | undefined;
  bytes: number;
  lastMilestone: { at: number; percent: number };
  lastDrawAt: number;
}

export class ProgressDisplay implements ProgressSink {
  readonly #logger: DaemonLogger;
  readonly #now: () => number;
  readonly #milestonePercent: number;
  readonly #milestoneMs: number;
  readonly #redrawMs: number;
  readonly #cap: number | undefined;
  #current: StageState | undefined;

  constructor(options: ProgressDisplayOptions) {
    this.#logger = options.logger;
    this.#now = options.now ?? Date.now;
    this.#milestonePercent = options.milestonePercent ?? 10;
    this.#milestoneMs = options.milestoneMs ?? 30_000;
    this.#redrawMs = options.redrawMs ?? 100;
    this.#cap = options.maxBytesPerSecond;
  }

  /** The rate to show for `stage`: the measured one, or the cap where the measure comes out above it. */
  #shownRate(stage: ProgressStage, measured: number): { rate: number; capped: boolean } {
    if (stage !== 'downloading' || this.#cap === undefined || measured < this.#cap) {
      return { rate: measured, capped: false };
    }
    return { rate: this.#cap, capped: true };
  }

  start(
    stage: ProgressStage,
    info: { readonly uuid: string; readonly totalBytes?: number | undefined },
  ): void {
    if (this.#current) this.end(this.#current.stage, 'stopped');
    const at = this.#now();
    this.#current = {
      stage,
      uuid: info.uuid,
      totalBytes: info.totalBytes,
      startedAt: at,
      samples: [{ at, bytes: 0 }],
      percent: undefined,
      bytes: 0,
      lastMilestone: { at, percent: 0 },
      lastDrawAt: Number.NEGATIVE_INFINITY,
    };
    this.#draw(this.#current, true);
  }

  update(
    stage: ProgressStage,
    done: { readonly percent?: number | undefined; readonly bytes?: number },
  ): void {
    const state = this.#current;
    if (!state || state.stage !== stage) return;
    const at = this.#now();
    const percent = done.percent === undefined ? undefined : clampPercent(done.percent);
    const bytes =
      done.bytes ??
      (percent !== undefined && state.totalBytes
        ? Math.round((state.totalBytes * percent) / 100)
        : state.bytes);
    // A download that starts over (a retry) restarts the rate too.
    if (bytes < state.bytes) state.samples = [];
    state.samples.push({ at, bytes });
    while (state.samples.length > 2 && at - state.samples[1]!.at >= RATE_WINDOW_MS) state.samples.shift();
    state.bytes = bytes;
    state.percent = percent ?? state.percent;
    if (this.#logger.live) {
      this.#draw(state, state.percent === 100);
      return;
    }
    const since = state.lastMilestone;
    const progressed =
      state.percent === undefined ? true : state.percent - since.percent >= this.#milestonePercent;
    if (progressed && at - since.at >= this.#milestoneMs && state.percent !== 100) {
      state.lastMilestone = { at, percent: state.percent ?? 0 };
      this.#logger.info(`${LABEL[state.stage]} progress`, this.#fields(state));
    }
  }

  end(stage: ProgressStage, outcome: 'done' | 'failed' | 'stopped'): void {
    const state = this.#current;
    if (!state || state.stage !== stage) return;
    this.#current = undefined;
    this.#logger.progressDone();
    if (outcome !== 'done') return;
    const seconds = Math.max((this.#now() - state.startedAt) / 1000, 0.001);
    if (state.totalBytes !== undefined && state.bytes < state.totalBytes) state.bytes = state.totalBytes;
    state.percent = 100;
    const { rate, capped } = this.#shownRate(state.stage, state.bytes / seconds);
    if (this.#logger.live) {
      // A person at a terminal reads a sentence; machines below get the same numbers as fields.
      this.#logger.info(
        `${LABEL[state.stage]} finished: ${formatBytes(state.bytes)} in ${round1(seconds)} s (${formatBytes(rate)}/s${capped ? ', capped by download.max_rate' : ''})`,
      );
      return;
    }
    this.#logger.info(`${LABEL[state.stage]} finished`, {
      ...this.#fields(state),
      rate: Math.round(rate),
      ...(capped ? { capped: true } : {}),
      seconds: round1(seconds),
    });
  }

  cancel(): void {
    if (this.#current) this.end(this.#current.stage, 'failed');
  }

  /** The live line, redrawn at most every `redrawMs` unless `force`. */
  #draw(state: StageState, force: boolean): void {
    if (!this.#logger.live) return;
    const at = this.#now();
    if (!force && at - state.lastDrawAt < this.#redrawMs) return;
    state.lastDrawAt = at;
    const { rate, capped } = this.#shownRate(state.stage, rateOf(state));
    const parts = [
      state.totalBytes !== undefined
        ? `${formatBytes(state.bytes)} of ${formatBytes(state.totalBytes)}`
        : formatBytes(state.bytes),
      rate > 0 ? `${formatBytes(rate)}/s${capped ? ' (capped)' : ''}` : '',
      eta(state, rate) ?? '',
    ].filter(Boolean);
    this.#logger.progress(LABEL[state.stage].padEnd(8), state.percent, parts.join('  '));
  }

  #fields(state: StageState): Record<string, unknown> {
    const { rate, capped } = this.#shownRate(state.stage, rateOf(state));
    const remaining = etaSeconds(state, rate);
    return {
      uuid: state.uuid,
      stage: LABEL[state.stage],
      ...(state.percent !== undefined ? { percent: state.percent } : {}),
      bytes: state.bytes,
      ...(state.totalBytes !== undefined ? { total: state.totalBytes } : {}),
      rate: Math.round(rate),
      ...(capped ? { capped: true } : {}),
      ...(remaining !== undefined && state.percent !== 100 ? { eta_s: remaining } : {}),
    };
  }
}

/** Bytes per second over the sample window. */
function rateOf(state: StageState): number {
  const first = state.samples[0];
  const last = state.samples.at(-1);
  if (!first || !last || last.at <= first.at) return 0;
  return ((last.bytes - first.bytes) * 1000) / (last.at - first.at);
}

function etaSeconds(state: StageState, rate: number): number | undefined {
  if (state.totalBytes === undefined || rate <= 0) return undefined;
  return Math.max(0, Math.ceil((state.totalBytes - state.bytes) / rate));
}

function eta(state: StageState, rate: number): string | undefined {
  const seconds = etaSeconds(state, rate);
  if (seconds === undefined || state.percent === 100) return undefined;
  const minutes = Math.floor(seconds / 60);
  return `ETA ${minutes}:${String(seconds % 60).padStart(2, '0')}`;
}

function clampPercent(value: number): number {
  return Math.max(0, Math.min(100, Math.floor(value)));
}

function round1(value: number): number {
  return Math.round(value * 10) / 10;
}

/** 1023 B, 12.3 KiB, 4.0 MiB, 1.21 GiB. */
export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${Math.round(bytes)} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return `${value.toFixed(value >= 100 ? 0 : 1)} ${units[unit]}`;
}

/**
 * Shows an update's progress on `sink`: each of the download and the write starts, moves and ends; an update that
 * ends any other way (failed, stopped) clears what is shown.
 */
export function showProgress(sink: ProgressSink): UpdateListener {
  return (event) => {
    switch (event.type) {
      case 'stage':
        if (event.stage === 'downloading' || event.stage === 'applying') {
          sink.start(event.stage, { uuid: event.update.uuid, totalBytes: event.update.size });
        }
        return;
      case 'progress':
        sink.update(event.stage, {
          percent: event.percent,
          ...(event.bytes !== undefined ? { bytes: event.bytes } : {}),
        });
        return;
      case 'stage-done':
        sink.end(event.stage, 'done');
        return;
      case 'finished':
        if (event.status !== 'completed') sink.cancel();
        return;
      case 'dropped':
        sink.cancel();
        return;
    }
  };
}
