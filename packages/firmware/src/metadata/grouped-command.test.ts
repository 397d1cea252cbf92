// runGroupedCommand with real child processes. Timeouts of hanging scripts are covered in test/metadata.test.ts.
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { CommandError, formatSeconds, runGroupedCommand } from './grouped-command.js';

describe('runGroupedCommand', () => {
  it('stops a command that prints more than allowed', async () => {
    const error = await runGroupedCommand(['sh', '-c', 'yes'], {
      timeoutMs: 5_000,
      maxOutputBytes: 1000,
    }).catch((e) => e);
    expect(error).toBeInstanceOf(CommandError);
    expect(error.failure).toEqual({ kind: 'too-much-output', maxOutputBytes: 1000 });
  });

  it('stops on abort, and tells a cancel from a timeout', async () => {
    const controller = new AbortController();
    const run = runGroupedCommand(['sleep', '100'], { timeoutMs: 5_000, signal: controller.signal }).catch(
      (e) => e,
    );
    await sleep(50);
    controller.abort();
    expect((await run).failure).toEqual({ kind: 'aborted' });
  });

  it('reports the exit status with the last line of stderr', async () => {
    const error = await runGroupedCommand(['sh', '-c', 'echo one >&2; echo two >&2; exit 4'], {
      timeoutMs: 5_000,
    }).catch((e) => e);
    expect(error.failure).toEqual({ kind: 'exited', exitCode: 4, signal: null, stderrTail: 'two' });
    expect(error.message).toBe('exited with status 4: two');
  });

  it('names durations in seconds', () => {
    expect(formatSeconds(10_000)).toBe('10 s');
    expect(formatSeconds(300)).toBe('0.3 s');
  });
});
