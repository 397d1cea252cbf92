// runConfiguredCommand with real child processes: a command that started children and hangs is stopped as a whole group.
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { runningMembers } from '@nerves-hub-link/test-server/testing';
import { afterAll, describe, expect, it } from 'vitest';
import { runConfiguredCommand, wasStopped } from './run-command.js';

const dir = mkdtempSync(join(tmpdir(), 'run-command-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Starts `script` under sh, which writes its pid (the group's id) first; resolves with the pid and the outcome. */
async function runHanging(
  name: string,
  script: string,
  options: { timeoutMs: number; killGraceMs?: number; signal?: AbortSignal },
) {
  const pidFile = join(dir, `${name}.pid`);
  const started = Date.now();
  const outcome = runConfiguredCommand(['sh', '-c', `echo $$ > ${pidFile}; ${script}`], options).then(
    () => expect.fail('the command succeeded'),
    (error: Error & { code?: string }) => ({ error, afterMs: Date.now() - started }),
  );
  while (!existsSync(pidFile) || readFileSync(pidFile, 'utf8').trim() === '') await sleep(10);
  const pgid = Number(readFileSync(pidFile, 'utf8'));
  // The shell and both sleeps are running before the timeout.
  for (let i = 0; i < 50 && runningMembers(pgid).length < 3; i++) await sleep(10);
  expect(runningMembers(pgid).length).toBe(3);
  return { pgid, ...(await outcome) };
}

describe('runConfiguredCommand', () => {
  it('stops a hanging command and the children it started when the timeout passes', async () => {
    const { pgid, error } = await runHanging('hang', 'sleep 100 & sleep 100', { timeoutMs: 300 });
    expect(error.code).toBe('DAEMON_COMMAND_FAILED');
    expect(error.message).toMatch(/^command "sh -c echo .*" failed: timed out after 0\.3 s$/);
    expect(runningMembers(pgid)).toEqual([]);
  });

  it('stops the command and its children when the signal is aborted (the daemon stops)', async () => {
    const stop = new AbortController();
    setTimeout(() => stop.abort(), 300);
    const { pgid, error, afterMs } = await runHanging('stopped', 'sleep 100 & sleep 100', {
      timeoutMs: 60_000,
      signal: stop.signal,
    });
    expect(error.message).toMatch(/failed: cancelled$/);
    expect(wasStopped(error)).toBe(true);
    expect(afterMs).toBeLessThan(2_000);
    expect(runningMembers(pgid)).toEqual([]);
  });

  it('gives the command the environment without proxy credentials', async () => {
    const { stdout } = await runConfiguredCommand(['sh', '-c', 'printf %s "$HTTPS_PROXY"'], {
      timeoutMs: 5_000,
      env: { PATH: process.env.PATH, HTTPS_PROXY: 'http://fleet:s3cret@proxy.example.com:3128' },
    });
    expect(stdout).toBe('http://proxy.example.com:3128');
  });

  it('kills a group that ignores SIGTERM once the grace is over', async () => {
    const { pgid, error, afterMs } = await runHanging('stubborn', `trap '' TERM; sleep 100 & sleep 100`, {
      timeoutMs: 200,
      killGraceMs: 400,
    });
    expect(error.message).toMatch(/timed out after 0\.2 s$/);
    expect(afterMs).toBeGreaterThanOrEqual(550);
    for (let i = 0; i < 50 && runningMembers(pgid).length > 0; i++) await sleep(10);
    expect(runningMembers(pgid)).toEqual([]);
  });

  it('returns the output of a command that succeeds', async () => {
    await expect(
      runConfiguredCommand(['sh', '-c', 'echo out; echo err >&2'], { timeoutMs: 5_000 }),
    ).resolves.toEqual({
      stdout: 'out\n',
      stderr: 'err\n',
    });
  });

  it('names a missing program, and shows the last line of stderr escaped', async () => {
    await expect(runConfiguredCommand(['/nonexistent/identify'], { timeoutMs: 5_000 })).rejects.toThrow(
      'command "/nonexistent/identify" failed: program not found',
    );
    const error = await runConfiguredCommand(
      ['sh', '-c', `printf 'first\\nbad\\033[31m thing\\n' >&2; exit 3`],
      {
        timeoutMs: 5_000,
      },
    ).then(
      () => expect.fail('the command succeeded'),
      (e: Error) => e,
    );
    expect(error.message).toMatch(/failed: exited with status 3: bad\\x1b\[31m thing$/);
  });
});
