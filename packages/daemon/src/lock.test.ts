import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { acquireLock, LOCK_FILE } from './lock.js';

const tempDir = () => mkdtempSync(join(tmpdir(), 'nhl-lock-'));

describe('acquireLock', () => {
  it('refuses a second holder of the same data_dir, naming the pid', () => {
    const dir = tempDir();
    const lock = acquireLock(dir);
    expect(() => acquireLock(dir)).toThrowError(
      expect.objectContaining({
        code: 'DAEMON_LOCKED',
        message: expect.stringContaining(`pid ${process.pid}`),
      }),
    );
    lock.release();
    expect(existsSync(join(dir, LOCK_FILE))).toBe(false);
    acquireLock(dir).release();
  });

  it('refuses while another live node process holds the lock', async () => {
    const dir = tempDir();
    const child = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 30000)'], { stdio: 'ignore' });
    try {
      writeFileSync(join(dir, LOCK_FILE), `${child.pid}\n`);
      expect(() => acquireLock(dir)).toThrowError(expect.objectContaining({ code: 'DAEMON_LOCKED' }));
    } finally {
      child.kill();
    }
  });

  it('takes over a lock left by a process that is gone', async () => {
    const dir = tempDir();
    const child = spawn(process.execPath, ['-e', '0'], { stdio: 'ignore' });
    await new Promise((resolve) => child.on('exit', resolve));
    writeFileSync(join(dir, LOCK_FILE), `${child.pid}\n`);
    const lock = acquireLock(dir);
    expect(lock.path).toBe(join(dir, LOCK_FILE));
    lock.release();
  });
});
