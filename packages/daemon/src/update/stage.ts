/** Where an update stands, from the decision about an offer to the reboot into the new firmware. */
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

/** How an update ended: the final statuses NervesHub records. */
export type ResultStatus = 'completed' | 'failed' | 'ignored' | 'rescheduled';
