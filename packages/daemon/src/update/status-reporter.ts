import { REASON_MAX_CHARS, shown } from '@nerves-hub-link/message-text';
import { PROGRESS_MIN_INTERVAL_MS, STATUS_BOUND, STATUS_BOUND_MAX_UPDATES } from './constants.js';
import type { UpdateListener } from './events.js';
import type { InflightExpiry } from './inflight-expiry.js';
import { RecentCounts } from './recent-counts.js';
import type { ProgressStage, ResultStatus } from './stage.js';

/**
 * Where device events go: the `device` channel's fire-and-forget push. Returns false when the event was refused
 * (not queued at all); `onSent` runs once it has been handed to the socket, maybe after the next join.
 */
export type SendEvent = (
  event: string,
  payload: Record<string, unknown>,
  options?: { readonly onSent?: () => void; readonly signal?: AbortSignal },
) => boolean;

/** The `status` of a `status_update` push (nerves_hub_web device_channel.ex). */
export type Status = 'received' | 'started' | ResultStatus;

/** The `stage` of an `fwup_progress` push for each stage with progress (nerves_hub_link updater.ex). */
const WIRE_PROGRESS_STAGE: Readonly<Record<ProgressStage, string>> = {
  downloading: 'downloading',
  applying: 'updating',
};

/**
 * Builds the status and progress pushes of one update. Progress is throttled like the reference client
 * (a new value only if it grew and 500 ms passed), except 100, which always goes out once.
 */
export class StatusReporter {
  readonly #send: SendEvent;
  readonly #now: () => number;
  readonly #expiry: InflightExpiry | undefined;
  readonly #last = new Map<ProgressStage, { value: number; at: number }>();

  /** With `expiry`, the frames of an update whose server record may be gone are not sent (see InflightExpiry). */
  constructor(send: SendEvent, now: () => number = Date.now, expiry?: InflightExpiry) {
    this.#send = send;
    this.#now = now;
    this.#expiry = expiry;
  }

  /** A new offer of `uuid` is answered: its progress starts from zero, its frames afresh. */
  start(uuid: string): void {
    this.#last.clear();
    this.#expiry?.start(uuid);
  }

  /**
   * `onSettled` runs once the status has left through the socket, or when it never will: it could not even be
   * queued, or it was dropped because the update's record may be gone. Either way nothing more of it can reach
   * the server later.
   */
  status(status: Status, extra: Record<string, unknown> = {}, onSettled?: () => void, uuid?: string): void {
    // The reason is shown to operators and stored by the server: escaped and bounded whatever built it.
    const reason = typeof extra.reason === 'string' ? { reason: shown(extra.reason, REASON_MAX_CHARS) } : {};
    const frame = uuid === undefined ? undefined : this.#expiry?.frame(uuid, () => onSettled?.());
    if (frame === null) {
      onSettled?.();
      return;
    }
    const accepted = this.#send(
      'status_update',
      { status, ...extra, ...reason },
      {
        onSent: () => {
          frame?.onSent();
          onSettled?.();
        },
        ...(frame ? { signal: frame.signal } : {}),
      },
    );
    if (!accepted) {
      frame?.refused();
      onSettled?.();
    }
  }

  progress(stage: ProgressStage, value: number, uuid?: string): void {
    const percent = Math.max(0, Math.min(100, Math.floor(value)));
    const last = this.#last.get(stage);
    const now = this.#now();
    if (last) {
      if (percent <= last.value) return;
      if (percent < 100 && now - last.at < PROGRESS_MIN_INTERVAL_MS) return;
    }
    this.#last.set(stage, { value: percent, at: now });
    const frame = uuid === undefined ? undefined : this.#expiry?.frame(uuid);
    if (frame === null) return;
    const accepted = this.#send(
      'fwup_progress',
      { stage: WIRE_PROGRESS_STAGE[stage], value: percent },
      frame ? { onSent: frame.onSent, signal: frame.signal } : {},
    );
    if (!accepted) frame?.refused();
  }
}

/**
 * What NervesHub hears of an update: `received` first (a new offer's progress starts from zero), `started` for
 * every download connection (at most STATUS_BOUND.started per update within a minute: a download retrying through
 * redirects tells nothing new after the first few), `fwup_progress` while downloading and writing (100 when each
 * is done), and the final status, whose `settled` runs once it has left the socket.
 */
export function reportToServer(
  reporter: StatusReporter,
  options: { readonly now?: () => number } = {},
): UpdateListener {
  const started = new RecentCounts({
    windowMs: STATUS_BOUND.windowMs,
    maxKeys: STATUS_BOUND_MAX_UPDATES,
    now: options.now ?? Date.now,
  });
  return (event) => {
    switch (event.type) {
      case 'received':
        reporter.start(event.update.uuid);
        reporter.status('received', {}, undefined, event.update.uuid);
        return;
      case 'connection':
        if (!started.take(event.update.uuid, STATUS_BOUND.started)) return;
        reporter.status(
          'started',
          event.networkInterface ? { downloader_network_interface: event.networkInterface } : {},
          undefined,
          event.update.uuid,
        );
        return;
      case 'progress':
        if (event.percent !== undefined) reporter.progress(event.stage, event.percent, event.update.uuid);
        return;
      case 'stage-done':
        reporter.progress(event.stage, 100, event.update.uuid);
        return;
      case 'finished':
        reporter.status(
          event.status,
          {
            ...(event.delayMs !== undefined ? { delay_for: event.delayMs } : {}),
            ...(event.reason !== undefined ? { reason: event.reason } : {}),
          },
          event.settled,
          event.update.uuid,
        );
        return;
    }
  };
}
