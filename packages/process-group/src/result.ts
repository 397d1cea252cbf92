/** How a command run ended: one shape, whether it succeeded or not. */

/**
 * - `exited`: the command's process exited on its own (any status);
 * - `signalled`: it was killed by a signal this package did not send;
 * - `timed-out`, `aborted`: this package stopped the group at the timeout or when the signal was aborted;
 * - `output-limit`: stdout passed `maxOutputBytes` with `failOnExcessOutput`, and the group was stopped.
 */
export type ProcessGroupEnding = 'exited' | 'signalled' | 'timed-out' | 'aborted' | 'output-limit';

/** What was kept of one output stream. */
export interface CapturedOutput {
  /** The kept bytes as UTF-8: the whole stream, or its last `maxOutputBytes` bytes when it was longer. */
  readonly text: string;
  /** How many bytes the stream carried in all. */
  readonly totalBytes: number;
  /** More was written than kept (`totalBytes > maxOutputBytes`). */
  readonly truncated: boolean;
}

export interface ProcessGroupResult {
  readonly ending: ProcessGroupEnding;
  /** The exit status of the command's own process; null when a signal ended it. */
  readonly exitCode: number | null;
  /** The signal that ended the command's own process, if one did (SIGTERM when it was stopped). */
  readonly signal: NodeJS.Signals | null;
  readonly stdout: CapturedOutput;
  readonly stderr: CapturedOutput;
  /** From the start to the moment no process of the group was left. */
  readonly durationMs: number;
  /**
   * Processes of the group still running when the command's own process had exited: they were stopped like a
   * timed-out command (SIGTERM, then SIGKILL). 0 for a command stopped as a whole.
   */
  readonly strayProcesses: number;
  /** Processes of the group that even SIGKILL did not end in time (stuck in the kernel); normally 0. */
  readonly leftRunning: number;
}
