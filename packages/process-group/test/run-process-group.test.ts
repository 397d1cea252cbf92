// runProcessGroup with real child processes: shells, their children and grandchildren, read back through /proc.
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, describe, expect, it } from 'vitest';
import {
  type ProcessGroupError,
  type ProcessGroupResult,
  type RunProcessGroupOptions,
  runningMembers,
  runProcessGroup,
} from '../src/index.js';

const dir = mkdtempSync(join(tmpdir(), 'process-group-test-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A short grace, so that commands which ignore SIGTERM cost a tenth of a second, not two. */
const GRACE = { killGraceMs: 100 };

let scripts = 0;

/**
 * Runs `script` under sh, which first writes its pid (the group's id) to a file; resolves once `members`
 * processes of the group run (so that the test sees them before they are stopped), with the group's id and the
 * run's outcome (its result or its error).
 */
async function runScript(script: string, options: RunProcessGroupOptions, members = 1) {
  const pidFile = join(dir, `script-${++scripts}.pid`);
  const startedAt = performance.now();
  const outcome = runProcessGroup(['sh', '-c', `echo $$ > ${pidFile}; ${script}`], options).then(
    (result) => ({ result, error: undefined, afterMs: performance.now() - startedAt }),
    (error: ProcessGroupError) => ({ result: error.result, error, afterMs: performance.now() - startedAt }),
  );
  while (!existsSync(pidFile) || readFileSync(pidFile, 'utf8').trim() === '') await sleep(5);
  const pgid = Number(readFileSync(pidFile, 'utf8'));
  for (let i = 0; i < 200 && runningMembers(pgid).length < members; i++) await sleep(5);
  expect(runningMembers(pgid).length).toBeGreaterThanOrEqual(members);
  return { pgid, outcome };
}

describe('runProcessGroup', () => {
  it('resolves with the output of a command that exits with status 0', async () => {
    const result = await runProcessGroup(['sh', '-c', 'echo out; echo err >&2'], { timeoutMs: 5_000 });
    expect(result).toMatchObject({
      ending: 'exited',
      exitCode: 0,
      signal: null,
      stdout: { text: 'out\n', totalBytes: 4, truncated: false },
      stderr: { text: 'err\n', totalBytes: 4, truncated: false },
      strayProcesses: 0,
      leftRunning: 0,
    });
  });

  it('rejects a non-zero status with the result, or resolves with it given `reject: false`', async () => {
    const command = ['sh', '-c', 'echo no serial >&2; exit 3'];
    const error = (await runProcessGroup(command, { timeoutMs: 5_000 }).catch((e) => e)) as ProcessGroupError;
    expect(error).toMatchObject({ name: 'ProcessGroupError', code: 'PROC_EXIT_STATUS' });
    expect(error.message).toBe('exited with status 3');
    expect(error.result).toMatchObject({ ending: 'exited', exitCode: 3, stderr: { text: 'no serial\n' } });
    const result = await runProcessGroup(command, { timeoutMs: 5_000, reject: false });
    expect(result).toMatchObject({ ending: 'exited', exitCode: 3 });
  });

  it('tells a missing program apart from one that cannot start, with `reject: false` too', async () => {
    for (const reject of [true, false]) {
      await expect(
        runProcessGroup(['/nonexistent/fw_printenv'], { timeoutMs: 5_000, reject }),
      ).rejects.toMatchObject({ code: 'PROC_NOT_FOUND', message: 'program not found', result: undefined });
    }
    await expect(runProcessGroup([dir], { timeoutMs: 5_000 })).rejects.toMatchObject({
      code: 'PROC_START_FAILED',
      message: expect.stringMatching(/^could not start: .*EACCES/),
    });
  });

  it('stops a command at the timeout with every process it started, and ends once none is left', async () => {
    const { pgid, outcome } = await runScript('sleep 100 & sleep 100', { timeoutMs: 300, ...GRACE }, 3);
    const { error, result } = await outcome;
    expect(error).toMatchObject({ code: 'PROC_TIMED_OUT', message: 'timed out after 0.3 s' });
    expect(result).toMatchObject({ ending: 'timed-out', exitCode: null, signal: 'SIGTERM', leftRunning: 0 });
    expect(runningMembers(pgid)).toEqual([]);
  });

  it('kills a group that ignores SIGTERM once the grace is over', async () => {
    const { pgid, outcome } = await runScript(
      `trap '' TERM; sleep 100 & sleep 100`,
      { timeoutMs: 200, ...GRACE },
      3,
    );
    const { error, result, afterMs } = await outcome;
    expect(error?.code).toBe('PROC_TIMED_OUT');
    expect(result?.signal).toBe('SIGKILL');
    expect(afterMs).toBeGreaterThanOrEqual(300);
    expect(runningMembers(pgid)).toEqual([]);
  });

  it('waits for a process that takes its time to end after SIGTERM', async () => {
    // A grandchild that cleans up for 300 ms on SIGTERM, its output elsewhere so the pipes close without it.
    const slow = `(trap 'sleep 0.3; exit 0' TERM; while :; do sleep 0.05; done) >/dev/null 2>&1 &`;
    const { pgid, outcome } = await runScript(`${slow} sleep 100`, { timeoutMs: 200, killGraceMs: 5_000 }, 3);
    const { error, afterMs } = await outcome;
    expect(error?.code).toBe('PROC_TIMED_OUT');
    expect(afterMs).toBeGreaterThanOrEqual(450);
    expect(runningMembers(pgid)).toEqual([]);
  });

  it('stops what a command left running when it exited, and says how many there were', async () => {
    // The first sleep holds stdout open, the second does not: neither outlives the run.
    const { pgid, outcome } = await runScript('sleep 100 & sleep 100 >/dev/null & echo started; read x', {
      timeoutMs: 5_000,
      input: 'go\n',
      ...GRACE,
    });
    const { error, result } = await outcome;
    expect(error).toBeUndefined();
    expect(result).toMatchObject({ ending: 'exited', exitCode: 0, stdout: { text: 'started\n' } });
    expect(result?.strayProcesses).toBe(2);
    expect(runningMembers(pgid)).toEqual([]);
  });

  it('keeps the end of a huge output and counts all of it', async () => {
    const result = await runProcessGroup(
      ['sh', '-c', `head -c 20000000 /dev/zero | tr '\\0' x; echo; echo the end`],
      { timeoutMs: 10_000, maxOutputBytes: 1000 },
    );
    expect(result.stdout).toEqual({
      text: `${'x'.repeat(1000 - 9)}\nthe end\n`,
      totalBytes: 20_000_009,
      truncated: true,
    });
  });

  it('stops a command whose output never ends with `failOnExcessOutput`', async () => {
    // It fills the bound at once: the group may be gone before it is looked at.
    const { pgid, outcome } = await runScript(
      'yes',
      { timeoutMs: 10_000, maxOutputBytes: 4096, failOnExcessOutput: true },
      0,
    );
    const { error, result } = await outcome;
    expect(error).toMatchObject({ code: 'PROC_OUTPUT_LIMIT', message: 'printed more than 4096 bytes' });
    expect(result?.stdout.text).toHaveLength(4096);
    expect(result?.stdout.totalBytes).toBeGreaterThan(4096);
    expect(runningMembers(pgid)).toEqual([]);
  });

  it('writes `input` to stdin and closes it; without it stdin is empty', async () => {
    const input = `${'line of input\n'.repeat(100_000)}last`;
    const echoed = await runProcessGroup(['cat'], {
      timeoutMs: 10_000,
      input,
      maxOutputBytes: 2 * 1024 * 1024,
    });
    expect(echoed.stdout.text).toBe(input);
    expect((await runProcessGroup(['cat'], { timeoutMs: 5_000 })).stdout.text).toBe('');
    // A command that never reads its stdin is no error.
    await expect(runProcessGroup(['true'], { timeoutMs: 5_000, input })).resolves.toMatchObject({
      exitCode: 0,
    });
  });

  it('stops every command that shares an aborted signal at once, and tells a cancel from a timeout', async () => {
    const controller = new AbortController();
    const options = { timeoutMs: 10_000, signal: controller.signal, ...GRACE };
    const runs = await Promise.all([
      runScript(`trap '' TERM; sleep 100 & sleep 100`, options, 3),
      runScript('sleep 100', options, 2),
    ]);
    const reason = new Error('the daemon is stopping');
    controller.abort(reason);
    for (const { pgid, outcome } of runs) {
      const { error, result } = await outcome;
      expect(error).toMatchObject({ code: 'PROC_ABORTED', message: 'cancelled', cause: reason });
      expect(result?.ending).toBe('aborted');
      expect(runningMembers(pgid)).toEqual([]);
    }
  });

  it('starts nothing under a signal that is already aborted', async () => {
    const marker = join(dir, 'must-not-exist');
    const signal = AbortSignal.abort();
    const error = await runProcessGroup(['touch', marker], { timeoutMs: 5_000, signal }).catch((e) => e);
    expect(error.code).toBe('PROC_ABORTED');
    expect(
      await runProcessGroup(['touch', marker], { timeoutMs: 5_000, signal, reject: false }),
    ).toMatchObject({
      ending: 'aborted',
      durationMs: 0,
    });
    expect(existsSync(marker)).toBe(false);
  });

  it('reports a signal it did not send', async () => {
    const error = await runProcessGroup(['sh', '-c', 'kill -SEGV $$'], { timeoutMs: 5_000 }).catch((e) => e);
    expect(error).toMatchObject({ code: 'PROC_SIGNALLED', message: 'was killed by SIGSEGV' });
    expect(error.result).toMatchObject({ ending: 'signalled', exitCode: null, signal: 'SIGSEGV' });
  });

  it('refuses arguments it cannot honour with `PROC_INVALID_ARGUMENT`', async () => {
    const cases: [readonly string[], Partial<RunProcessGroupOptions>][] = [
      [[], {}],
      [['sh', 'a\0b'], {}],
      [['true'], { timeoutMs: 0 }],
      [['true'], { timeoutMs: Number.POSITIVE_INFINITY }],
      [['true'], { killGraceMs: -1 }],
      [['true'], { maxOutputBytes: 0.5 }],
    ];
    for (const [command, options] of cases) {
      await expect(runProcessGroup(command, { timeoutMs: 1_000, ...options })).rejects.toMatchObject({
        code: 'PROC_INVALID_ARGUMENT',
      });
    }
  });
});

describe('the result', () => {
  it('has the same shape for every ending', async () => {
    const keys = (result: ProcessGroupResult | undefined) => Object.keys(result ?? {}).sort();
    const ok = await runProcessGroup(['true'], { timeoutMs: 5_000 });
    const timedOut = await runProcessGroup(['sleep', '10'], { timeoutMs: 50, reject: false });
    expect(keys(timedOut)).toEqual(keys(ok));
  });
});
