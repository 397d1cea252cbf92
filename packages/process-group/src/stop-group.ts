/** Ending a whole process group: SIGTERM, a grace to finish, then SIGKILL. */
import { setTimeout as sleep } from 'node:timers/promises';
import { KILL_WAIT_MS, POLL_MS } from './constants.js';
import { countRunningMembers, signalGroup } from './group-members.js';

/**
 * SIGTERM to the group (and SIGCONT, so a stopped process can act on it), then SIGKILL once `graceMs` is over if
 * any of it still runs. Resolves when no process of the group runs, with how many still did when even the wait
 * after SIGKILL was over (normally 0).
 */
export async function stopGroup(pgid: number, graceMs: number): Promise<number> {
  signalGroup(pgid, 'SIGTERM');
  signalGroup(pgid, 'SIGCONT');
  if ((await waitForGroupEnd(pgid, graceMs)) === 0) return 0;
  signalGroup(pgid, 'SIGKILL');
  return waitForGroupEnd(pgid, KILL_WAIT_MS);
}

/** Looks at the group until none of it runs or `ms` have passed; resolves with how many still run. */
async function waitForGroupEnd(pgid: number, ms: number): Promise<number> {
  const deadline = performance.now() + ms;
  for (;;) {
    const running = countRunningMembers(pgid);
    if (running === 0 || performance.now() >= deadline) return running;
    await sleep(POLL_MS);
  }
}
