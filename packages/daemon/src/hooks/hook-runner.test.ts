import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { HOOK_OUTPUT_LIMIT, type HookRequest, runHook } from './hook-runner.js';

const dir = mkdtempSync(join(tmpdir(), 'hook-runner-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const request = (command: string[], extra: Partial<HookRequest> = {}): HookRequest => ({
  name: 'update_available',
  command,
  env: {},
  input: {},
  timeoutMs: 5_000,
  ...extra,
});

/** Running, not a zombie waiting for a parent that does not reap (PID 1 in a container may not). */
const alive = (pid: number) => {
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
};

describe('runHook', () => {
  it('passes the environment and the JSON input, and returns status and output', async () => {
    const outcome = await runHook(
      request(['sh', '-c', 'echo "$NERVES_HUB_UPDATE_UUID"; cat; echo oops >&2; exit 3'], {
        env: { NERVES_HUB_UPDATE_UUID: 'u-1' },
        input: { update: { uuid: 'u-1' } },
      }),
    );
    expect(outcome).toMatchObject({ kind: 'exited', code: 3, stderr: 'oops\n' });
    expect(outcome.kind !== 'not-started' && outcome.stdout).toBe('u-1\n{"update":{"uuid":"u-1"}}\n');
  });

  it('runs without a shell: arguments are passed as written', async () => {
    const outcome = await runHook(request(['echo', '$HOME; rm -rf /', '*']));
    expect(outcome).toMatchObject({ kind: 'exited', code: 0, stdout: '$HOME; rm -rf / *\n' });
  });

  it('a hook that does not read its input is fine', async () => {
    const outcome = await runHook(request(['true'], { input: { big: 'x'.repeat(1_000_000) } }));
    expect(outcome).toMatchObject({ kind: 'exited', code: 0 });
  });

  it('kills the whole process group on timeout, children of a shell included', async () => {
    const pidFile = join(dir, 'grandchild.pid');
    const outcome = await runHook(
      request(['sh', '-c', `sleep 30 & echo $! > ${pidFile}; wait`], { timeoutMs: 300 }),
    );
    expect(outcome.kind).toBe('timed-out');
    expect(outcome.kind !== 'not-started' && outcome.durationMs).toBeLessThan(3_000);
    const grandchild = Number(readFileSync(pidFile, 'utf8'));
    for (let i = 0; i < 50 && alive(grandchild); i++) await new Promise((r) => setTimeout(r, 20));
    expect(alive(grandchild)).toBe(false);
  });

  it('a hook that ignores SIGTERM is killed after the grace time', async () => {
    const outcome = await runHook(
      request(['sh', '-c', 'trap "" TERM; while true; do sleep 0.1; done'], { timeoutMs: 200 }),
    );
    expect(outcome.kind).toBe('timed-out');
  }, 10_000);

  it('an abort stops it at once', async () => {
    const controller = new AbortController();
    const running = runHook(request(['sleep', '30'], { signal: controller.signal }));
    setTimeout(() => controller.abort(), 100);
    expect((await running).kind).toBe('aborted');
  });

  it('keeps only the end of a flood of output', async () => {
    const outcome = await runHook(
      request(['sh', '-c', `head -c ${HOOK_OUTPUT_LIMIT * 4} /dev/zero | tr '\\0' x; echo; echo apply`]),
    );
    expect(outcome.kind).toBe('exited');
    if (outcome.kind !== 'exited') return;
    expect(outcome.stdout.length).toBe(HOOK_OUTPUT_LIMIT);
    expect(outcome.stdout.endsWith('x\napply\n')).toBe(true);
  });

  it('reports a missing program, a signal, and stops a background child it left holding the pipes', async () => {
    expect(await runHook(request([join(dir, 'no-such-hook')]))).toEqual({
      kind: 'not-started',
      message: `program not found: ${join(dir, 'no-such-hook')}`,
    });
    expect(await runHook(request(['sh', '-c', 'kill -SEGV $$']))).toMatchObject({
      kind: 'signalled',
      signal: 'SIGSEGV',
    });
    const started = Date.now();
    const outcome = await runHook(request(['sh', '-c', 'sleep 30 & echo $!']));
    expect(outcome).toMatchObject({ kind: 'exited', code: 0 });
    expect(Date.now() - started).toBeLessThan(1_500);
    // Nothing a hook started outlives it: hooks cannot pile up processes from one update to the next.
    expect(alive(Number(outcome.kind === 'exited' && outcome.stdout))).toBe(false);
  });
});
