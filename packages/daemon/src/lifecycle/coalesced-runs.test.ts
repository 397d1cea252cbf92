import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { coalescedRuns } from './coalesced-runs.js';

describe('coalescedRuns', () => {
  it('runs once for a burst while it runs, plus once more, never two at once', async () => {
    let running = 0;
    let most = 0;
    let runs = 0;
    const request = coalescedRuns(
      async () => {
        runs += 1;
        running += 1;
        most = Math.max(most, running);
        await sleep(30);
        running -= 1;
      },
      () => {},
    );
    const settled = Array.from({ length: 200 }, () => request());
    await Promise.all(settled);
    expect(runs).toBe(2);
    expect(most).toBe(1);
    await request();
    expect(runs).toBe(3);
  });

  it('hands a failed run to onError and keeps serving', async () => {
    const errors: unknown[] = [];
    let runs = 0;
    const request = coalescedRuns(
      async () => {
        runs += 1;
        throw new Error(`run ${runs}`);
      },
      (error) => errors.push(error),
    );
    await request();
    await request();
    expect(runs).toBe(2);
    expect(errors.map((error) => (error as Error).message)).toEqual(['run 1', 'run 2']);
  });
});
