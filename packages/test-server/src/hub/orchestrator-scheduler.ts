/**
 * When each deployment's orchestrator runs, as NervesHub's distributed orchestrator decides it
 * (nerves_hub_web lib/nerves_hub/managed_deployments/distributed/orchestrator.ex): a trigger runs at once and opens
 * a window (3 s there); triggers inside the window fold into one run at its end; a backup run every interval
 * (120–140 s there) when no window is open.
 */
export interface OrchestratorSchedulerOptions {
  /** The window after a run in which further triggers wait. 0 runs every trigger at once. */
  readonly delayMs: number;
  readonly intervalMs: number;
}

export class OrchestratorScheduler {
  readonly #run: (deploymentId: number) => void;
  readonly #deployments: () => Iterable<number>;
  readonly #delayMs: number;
  readonly #windows = new Map<number, { timer: NodeJS.Timeout; again: boolean }>();
  readonly #interval: NodeJS.Timeout;

  constructor(
    run: (deploymentId: number) => void,
    deployments: () => Iterable<number>,
    options: OrchestratorSchedulerOptions,
  ) {
    this.#run = run;
    this.#deployments = deployments;
    this.#delayMs = options.delayMs;
    this.#interval = setInterval(() => this.backup(), options.intervalMs);
    this.#interval.unref();
  }

  /** Orchestrator.maybe_trigger_update. */
  trigger(deploymentId: number): void {
    if (this.#delayMs <= 0) {
      this.#run(deploymentId);
      return;
    }
    const window = this.#windows.get(deploymentId);
    if (window) {
      window.again = true;
      return;
    }
    // The window opens before the run, so a run that asks for another one lands at the window's end.
    this.#open(deploymentId);
    this.#run(deploymentId);
  }

  /** The backup interval: every deployment without an open window runs. */
  backup(): void {
    for (const id of this.#deployments()) if (!this.#windows.has(id)) this.#run(id);
  }

  close(): void {
    clearInterval(this.#interval);
    for (const { timer } of this.#windows.values()) clearTimeout(timer);
    this.#windows.clear();
  }

  #open(deploymentId: number): void {
    const window = { timer: setTimeout(() => this.#windowEnd(deploymentId), this.#delayMs), again: false };
    window.timer.unref();
    this.#windows.set(deploymentId, window);
  }

  #windowEnd(deploymentId: number): void {
    const window = this.#windows.get(deploymentId);
    this.#windows.delete(deploymentId);
    if (!window?.again) return;
    this.#open(deploymentId);
    this.#run(deploymentId);
  }
}
