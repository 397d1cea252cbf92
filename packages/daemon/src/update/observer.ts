import type { NextAttempt, UpdateListener } from './events.js';
import type { UpdateFacts } from './facts.js';
import type { ResultStatus, UpdateStage } from './stage.js';

/** A record of where the device's update stands (the status file). */
export interface UpdateObserver {
  /** The update moved to `stage`; `percent` for the download and the apply. */
  stage(update: UpdateFacts, stage: UpdateStage, percent?: number): void;
  /** The update ended with a final status. */
  result(update: UpdateFacts, status: ResultStatus, reason?: string): void;
  /** The update stopped without a status. */
  dropped(): void;
  nextAttempt(attempt: NextAttempt | undefined): void;
}

/**
 * Keeps `observer` current from the update events: stages with whole percents, results, drops and next attempts.
 */
export function recordUpdates(observer: UpdateObserver): UpdateListener {
  return (event) => {
    switch (event.type) {
      case 'stage':
        observer.stage(event.update, event.stage, event.percent);
        return;
      case 'progress':
        if (event.percent !== undefined) observer.stage(event.update, event.stage, Math.floor(event.percent));
        return;
      case 'finished':
        observer.result(event.update, event.status, event.reason);
        return;
      case 'dropped':
        observer.dropped();
        return;
      case 'next-attempt':
        observer.nextAttempt(event.attempt);
        return;
    }
  };
}
