// Before each timed run of a benchmark: dirty pages written back, and the machine quiet.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';

/** Busy and total CPU time of the machine so far (all cores), from /proc/stat, in clock ticks. */
function cpuTicks() {
  const fields = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
  const idle = fields[3] + fields[4];
  return {
    busy: fields.reduce((sum, value) => sum + value, 0) - idle,
    total: fields.reduce((a, b) => a + b, 0),
  };
}

/**
 * `sync`, so that no run pays for the dirty pages of the one before it; then pauses `settleMs` at a time until
 * less than `idleCpu` of all cores was busy during the pause (the benchmark itself being idle meanwhile), so that
 * other work on the machine does not land inside a run. Gives up waiting after `maxWaitMs`. Resolves with
 * whether it had to wait.
 */
export async function settle({ settleMs = 3000, idleCpu = 0.1, maxWaitMs = 10 * 60_000 } = {}) {
  execFileSync('sync');
  const deadline = Date.now() + maxWaitMs;
  for (let waited = false; ; waited = true) {
    const before = cpuTicks();
    await sleep(settleMs);
    const after = cpuTicks();
    const busy = (after.busy - before.busy) / Math.max(1, after.total - before.total);
    if (busy < idleCpu || Date.now() > deadline) return waited;
  }
}
