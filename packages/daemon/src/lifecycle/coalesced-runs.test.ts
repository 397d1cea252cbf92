import { describe, expect, it, vi } from 'vitest';
import { coalescedRuns } from './coalesced-runs.js';

describe('coalescedRuns', () => {
  it('runs once for a burst while it runs, plus once more, never two at once', async () => {
    let running = 0;
    let most = 0;
    let runs = 0;
    // Each run lasts until the test ends it.
    const ends: Array<() => void> = [];
    const request = coalescedRuns(
      async () => {
        runs += 1;
        running += 1;
        most = Math.max(most, running);
        await new Promise<void>((end) => ends.push(end));
        running -= 1;
      },
      () => {},
    );
    const settled = Array.from({ length: 200 }, () => request());
    expect(runs).toBe(1);
    ends.shift()!();
    await vi.waitFor(() => expect(runs).toBe(2));
    ends.shift()!();
    await Promise.all(settled);
    expect(runs).toBe(2);
    expect(most).toBe(1);
    const again = request();
    ends.shift()!();
    await again;
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
