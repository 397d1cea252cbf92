/** Numeric defaults of this package. */

/** After SIGTERM, how long a process group has to end before it gets SIGKILL. */
export const KILL_GRACE_MS = 2_000;
/**
 * After SIGKILL, how long the group is waited for: SIGKILL cannot be caught, so only a process stuck in the
 * kernel (uninterruptible I/O) takes longer, and it is then reported as left running.
 */
export const KILL_WAIT_MS = 2_000;
/** Bytes kept of each of stdout and stderr unless the caller says otherwise. */
export const DEFAULT_MAX_OUTPUT_BYTES = 1024 * 1024;
/**
 * After the command's own process exits, how long its output may take to drain (a process it left running may
 * hold the pipes open) before what is left of its group is stopped.
 */
export const DRAIN_MS = 200;
/** How often a group that is being stopped is looked at. */
export const POLL_MS = 20;
/** The longest delay `setTimeout` takes; a longer one would fire at once. */
export const MAX_TIMER_MS = 2_147_483_647;
