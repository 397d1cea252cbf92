/**
 * Where an update stands, from the decision about an offer to the reboot into the new firmware: the one
 * vocabulary of the update manager, its events, the status file (`update.stage`) and the progress display.
 */
export type UpdateStage =
  | 'deciding'
  | 'before-download'
  | 'awaiting-keys'
  | 'downloading'
  | 'verifying'
  | 'before-apply'
  | 'applying'
  | 'after-apply'
  | 'awaiting-reboot';

/** The stages that make progress: the download, and fwup writing the firmware. */
export type ProgressStage = Extract<UpdateStage, 'downloading' | 'applying'>;

/** How an offer ended: the final statuses NervesHub records. */
export type ResultStatus = 'completed' | 'failed' | 'ignored' | 'rescheduled';
