import type { UpdateFacts } from './facts.js';
import type { ProgressStage, ResultStatus, UpdateStage } from './stage.js';

/** A rescheduled update: when it is asked about again, and by whom. */
export interface NextAttempt {
  readonly update: UpdateFacts;
  /** When NervesHub's block ends (deployments) or the device is due to ask; absent when nobody will by itself. */
  readonly at?: number;
  /** When the daemon asks again on its own with the offer it has; absent when it does not. */
  readonly localRetryAt?: number;
  readonly note: string;
}

/**
 * What happens to an offer, step by step, as the update manager tells it. Each event is emitted once, to every
 * listener: the status reporter turns them into pushes to NervesHub, the progress display into what a person
 * watching sees, the status file into `status.json`.
 */
export type UpdateEvent =
  /** An offer is answered; NervesHub counts the attempt on this first status. */
  | { readonly type: 'received'; readonly update: UpdateFacts }
  /** The update moved on to `stage`; `percent` when the stage starts with one. */
  | {
      readonly type: 'stage';
      readonly update: UpdateFacts;
      readonly stage: UpdateStage;
      readonly percent?: number;
    }
  /** Progress within the download or the write: the percent when known, the bytes so far (download). */
  | {
      readonly type: 'progress';
      readonly update: UpdateFacts;
      readonly stage: ProgressStage;
      readonly percent: number | undefined;
      readonly bytes?: number;
    }
  /** The whole file is downloaded and checked, or fwup has written it. */
  | { readonly type: 'stage-done'; readonly update: UpdateFacts; readonly stage: ProgressStage }
  /** The download opened an HTTP connection (each attempt, each redirect hop), over this interface. */
  | {
      readonly type: 'connection';
      readonly update: UpdateFacts;
      readonly networkInterface: string | undefined;
    }
  /** The final status of an offer. */
  | {
      readonly type: 'finished';
      readonly update: UpdateFacts;
      readonly status: ResultStatus;
      readonly reason?: string;
      /** `rescheduled`: when to offer it again, in milliseconds (NervesHub's `delay_for`). */
      readonly delayMs?: number;
      /** The status reporter calls this once the status has left the socket, or when it could not be queued. */
      readonly settled: () => void;
    }
  /** The update stopped without a status: the daemon is stopping, and NervesHub offers it again later. */
  | { readonly type: 'dropped'; readonly update: UpdateFacts }
  /** A rescheduled update will be asked about again as `attempt` says; undefined: no longer. */
  | { readonly type: 'next-attempt'; readonly attempt: NextAttempt | undefined };

export type UpdateListener = (event: UpdateEvent) => void;
