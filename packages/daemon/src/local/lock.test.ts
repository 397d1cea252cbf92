import { type ChildProcess, spawn } from 'node:child_process';
import {
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { acquireLock, LOCK_FILE } from './lock.js';
import { isNervesHubLinkCommand } from './lock-holder.js';

const tempDir = () => mkdtempSync(join(tmpdir(), 'nhl-lock-'));
const SLEEP = 'setTimeout(() => {}, 30000)';

const children: ChildProcess[] = [];
afterEach(() => {
  for (const child of children.splice(0)) child.kill();
});

/** Starts a long-running process and waits until its /proc entry shows the command line it was given. */
async function startProcess(file: string, args: string[]): Promise<number> {
  const child = spawn(file, args, { stdio: 'ignore' });
  children.push(child);
  await new Promise((resolve, reject) => {
    child.once('spawn', resolve);
    child.once('error', reject);
  });
  const pid = child.pid!;
  // Right after fork the child may still show the parent's command line.
  for (let i = 0; i < 100; i++) {
    if (readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(args.at(-1)!)) return pid;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  throw new Error(`process ${pid} never showed its command line`);
}

function warnings() {
  const lines: string[] = [];
  return { lines, logger: { warn: (message: string) => lines.push(message) } };
}

function lockHeldBy(pid: number | string): string {
  const dir = tempDir();
  writeFileSync(join(dir, LOCK_FILE), `${pid}\n`);
  return dir;
}

describe('acquireLock', () => {
  it('writes its pid and removes the file on release', () => {
    const dir = tempDir();
    const lock = acquireLock(dir);
    expect(readFileSync(lock.path, 'utf8')).toBe(`${process.pid}\n`);
    lock.release();
    expect(existsSync(join(dir, LOCK_FILE))).toBe(false);
  });

  it('takes over a lock holding its own pid (reused after a power cut) and says why', () => {
    const dir = lockHeldBy(process.pid);
    const log = warnings();
    const lock = acquireLock(dir, log.logger);
    expect(readFileSync(lock.path, 'utf8')).toBe(`${process.pid}\n`);
    expect(log.lines).toHaveLength(1);
    expect(log.lines[0]).toContain(`pid ${process.pid}`);
    expect(log.lines[0]).toContain('this process');
    lock.release();
  });

  it('takes over a lock held by a live node process that is not nerves-hub-link', async () => {
    const pid = await startProcess(process.execPath, ['-e', SLEEP]);
    const dir = lockHeldBy(pid);
    const log = warnings();
    const lock = acquireLock(dir, log.logger);
    expect(readFileSync(lock.path, 'utf8')).toBe(`${process.pid}\n`);
    expect(log.lines[0]).toContain(`pid ${pid} is ${basename(process.execPath)}, not nerves-hub-link`);
    lock.release();
  });

  it('refuses while the nerves-hub-link bundle holds the lock, naming its pid', async () => {
    const bundle = join(tempDir(), 'nerves-hub-link.mjs');
    writeFileSync(bundle, `${SLEEP};\n`);
    const pid = await startProcess(process.execPath, ['--max-semi-space-size=1', bundle, 'run']);
    const dir = lockHeldBy(pid);
    expect(() => acquireLock(dir)).toThrowError(
      expect.objectContaining({
        code: 'DAEMON_LOCKED',
        message: expect.stringContaining(`another nerves-hub-link (pid ${pid}) is running`),
      }),
    );
    expect(readFileSync(join(dir, LOCK_FILE), 'utf8')).toBe(`${pid}\n`);
  });

  it('refuses while a single executable named nerves-hub-link holds the lock', async () => {
    const executable = join(tempDir(), 'nerves-hub-link');
    symlinkSync(process.execPath, executable);
    const pid = await startProcess(executable, ['-e', SLEEP]);
    expect(() => acquireLock(lockHeldBy(pid))).toThrowError(
      expect.objectContaining({ code: 'DAEMON_LOCKED' }),
    );
  });

  it('takes over a lock left by a process that is gone', async () => {
    const child = spawn(process.execPath, ['-e', '0'], { stdio: 'ignore' });
    await new Promise((resolve) => child.on('exit', resolve));
    const dir = lockHeldBy(child.pid!);
    const log = warnings();
    const lock = acquireLock(dir, log.logger);
    expect(lock.path).toBe(join(dir, LOCK_FILE));
    expect(log.lines[0]).toContain(`no process with pid ${child.pid} is running`);
    lock.release();
  });

  it('takes over a stale lock whose take-over marker a dead daemon left behind', async () => {
    const child = spawn(process.execPath, ['-e', '0'], { stdio: 'ignore' });
    await new Promise((resolve) => child.on('exit', resolve));
    const dir = lockHeldBy(child.pid!);
    const { dev, ino } = statSync(join(dir, LOCK_FILE), { bigint: true });
    writeFileSync(join(dir, `${LOCK_FILE}.takeover-${dev}-${ino}`), `${child.pid}\n`);
    writeFileSync(join(dir, `${LOCK_FILE}.${child.pid}.0123456789ab`), `${child.pid}\n`);
    const log = warnings();
    const lock = acquireLock(dir, log.logger);
    expect(readFileSync(lock.path, 'utf8')).toBe(`${process.pid}\n`);
    expect(log.lines[0]).toContain(`no process with pid ${child.pid} is running`);
    // Nothing of the dead daemon's is left, nor of the take-over.
    expect(readdirSync(dir)).toEqual([LOCK_FILE]);
    lock.release();
    expect(readdirSync(dir)).toEqual([]);
  });

  it('release leaves a lock that is no longer its own', () => {
    const dir = tempDir();
    const lock = acquireLock(dir);
    rmSync(lock.path);
    writeFileSync(lock.path, '4242\n');
    lock.release();
    expect(readFileSync(lock.path, 'utf8')).toBe('4242\n');
  });

  it('takes over a lock that holds no pid', () => {
    const log = warnings();
    acquireLock(lockHeldBy('garbage'), log.logger).release();
    expect(log.lines[0]).toContain('holds no pid');
  });
});

describe('isNervesHubLinkCommand', () => {
  it.each([
    [['/usr/bin/node', '--max-semi-space-size=1', '/usr/lib/nerves-hub-link/nerves-hub-link.mjs', 'run']],
    [['node', 'node_modules/@nerves-hub-link/daemon/bin/nerves-hub-link.js', 'run']],
    [['/usr/bin/nerves-hub-link', 'run', '--config', '/etc/nerves-hub-link/config.toml']],
    [['nodejs', './nerves-hub-link.cjs']],
    [['node', '/opt/renamed/agent.mjs', 'run']],
  ])('recognises %j', (argv) => {
    expect(isNervesHubLinkCommand(argv, '/usr/lib/x/agent.mjs')).toBe(true);
  });

  it.each([
    [[]],
    [['node']],
    [['node', '-e', 'setTimeout(() => {}, 1000)']],
    [['/usr/bin/node', '/srv/app/server.js', 'nerves-hub-link']],
    [['vi', '/usr/lib/nerves-hub-link/nerves-hub-link.mjs']],
    [['/usr/bin/node', '/etc/nerves-hub-link/other.mjs']],
    [['nerves-hub-link-helper']],
  ])('does not take %j for nerves-hub-link', (argv) => {
    expect(isNervesHubLinkCommand(argv, '/usr/lib/x/agent.mjs')).toBe(false);
  });
});
