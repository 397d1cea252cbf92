import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import {
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it, onTestFinished, vi } from 'vitest';
import { readDaemonStatus, STATUS_EXIT } from './daemon-status.js';
import { LOCK_FILE } from './lock.js';
import { readStateFile, STATE_FILE, StateFile } from './state-file.js';

const root = mkdtempSync(join(tmpdir(), 'state-file-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let count = 0;
const freshDir = () => {
  const dir = join(root, `d${count++}`);
  mkdirSync(dir, { recursive: true });
  return dir;
};

const warnings: string[] = [];
const logger = { debug() {}, info() {}, warn: (m: string) => warnings.push(m), error() {} };
const UPDATE = { uuid: 'new-uuid', version: '1.1.0', deploymentId: 7 };

function open(dir: string, clock: { now: number }) {
  return new StateFile(
    dir,
    {
      identifier: 'dev-1',
      server: 'wss://hub.example/socket/websocket',
      firmware: { uuid: 'old', version: '1.0.0' },
    },
    { logger, now: () => clock.now },
  );
}

describe('StateFile', () => {
  it('writes the whole state atomically, leaving no temporary file', () => {
    const dir = freshDir();
    const clock = { now: Date.parse('2026-08-26T10:00:00Z') };
    const file = open(dir, clock);
    file.open();
    expect(readdirSync(dir)).toEqual([STATE_FILE]);
    const read = readStateFile(dir);
    expect(read.kind).toBe('ok');
    expect(read.kind === 'ok' && read.state).toEqual({
      format: 1,
      pid: process.pid,
      started_at: '2026-08-26T10:00:00.000Z',
      updated_at: '2026-08-26T10:00:00.000Z',
      identifier: 'dev-1',
      connection: {
        state: 'connecting',
        server: 'wss://hub.example/socket/websocket',
        since: '2026-08-26T10:00:00.000Z',
      },
      firmware: { uuid: 'old', version: '1.0.0' },
      update: null,
      last_result: null,
      next_attempt: null,
      reboot: null,
      validation: null,
    });
  });

  it('follows an update: stages, throttled progress, result; a rescheduled one keeps its next attempt', async () => {
    // The throttled write waits on a timer: the test moves it.
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    onTestFinished(() => {
      vi.useRealTimers();
    });
    const dir = freshDir();
    const clock = { now: Date.parse('2026-08-26T10:00:00Z') };
    const file = open(dir, clock);
    const state = () => {
      const read = readStateFile(dir);
      if (read.kind !== 'ok') throw new Error(read.kind);
      return read.state;
    };
    file.connection('joined');
    expect(state().connection.state).toBe('joined');
    file.stage(UPDATE, 'downloading', 0);
    expect(state().update).toEqual({
      uuid: 'new-uuid',
      version: '1.1.0',
      deployment_id: 7,
      stage: 'downloading',
      percent: 0,
      since: '2026-08-26T10:00:00.000Z',
    });
    // Progress within a second of the last write waits; the latest value is written once the second is over.
    file.stage(UPDATE, 'downloading', 10);
    file.stage(UPDATE, 'downloading', 20);
    expect(state().update?.percent).toBe(0);
    clock.now += 1_000;
    vi.advanceTimersByTime(1_000);
    expect(state().update?.percent).toBe(20);
    // A new stage is written at once.
    file.stage(UPDATE, 'applying', 0);
    expect(state().update).toMatchObject({ stage: 'applying', since: '2026-08-26T10:00:00.000Z' });

    file.result(UPDATE, 'rescheduled', 'outside the window');
    file.nextAttempt({
      update: UPDATE,
      at: clock.now + 60_000,
      localRetryAt: clock.now + 240_000,
      note: 'n',
    });
    expect(state()).toMatchObject({
      update: null,
      last_result: { uuid: 'new-uuid', status: 'rescheduled', reason: 'outside the window' },
      next_attempt: {
        uuid: 'new-uuid',
        at: '2026-08-26T10:01:01.000Z',
        local_retry_at: '2026-08-26T10:04:01.000Z',
      },
    });
    file.result(UPDATE, 'completed');
    expect(state()).toMatchObject({ last_result: { status: 'completed', reason: null }, next_attempt: null });
    file.reboot({ why: 'the new firmware is written' });
    expect(state().reboot).toEqual({ reason: 'the new firmware is written', at: null });
    file.close();
    expect(state().connection.state).toBe('stopped');
  });

  it('keeps the last result of the previous run, and never writes a presigned query', () => {
    const dir = freshDir();
    const clock = { now: Date.parse('2026-08-26T10:00:00Z') };
    const first = open(dir, clock);
    first.result(UPDATE, 'failed', 'Download failed : https://fw.example/f.fw?X-Amz-Signature=abc refused');
    first.close();
    const second = open(dir, clock);
    second.open();
    const text = readFileSync(join(dir, STATE_FILE), 'utf8');
    expect(text).not.toContain('X-Amz-Signature');
    const read = readStateFile(dir);
    expect(read.kind === 'ok' && read.state.last_result).toMatchObject({
      status: 'failed',
      reason: 'Download failed : https://fw.example/f.fw?<redacted> refused',
    });
    expect(read.kind === 'ok' && read.state.connection.state).toBe('connecting');
  });

  it('holds strings from outside escaped and bounded, and reads a file holding raw ones escaped', () => {
    const dir = freshDir();
    const clock = { now: Date.parse('2026-08-26T10:00:00Z') };
    const file = open(dir, clock);
    const hostile = {
      uuid: 'u\x1b]0;pwned\x07\r\nnerves-hub-link is running',
      version: `\x1b[2J${'v'.repeat(600_000)}`,
      deploymentId: 7,
    };
    file.stage(hostile, 'downloading', 0);
    file.result(hostile, 'failed', `Update failed : \x1b[31m${'r'.repeat(10_000)}`);
    file.nextAttempt({ update: hostile, note: '\u202enote' });
    file.reboot({ why: 'why\r\nforged' });
    const text = readFileSync(join(dir, STATE_FILE), 'utf8');
    expect(text.length).toBeLessThan(5_000);
    // Neither raw nor as JSON escapes (\u001b): `jq -r` would print those raw.
    expect(text).not.toMatch(/[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u202e]/);
    expect(text).not.toMatch(/(?<!\\)\\u(00[01]|202e)/);
    const read = readStateFile(dir);
    if (read.kind !== 'ok') throw new Error(read.kind);
    expect(read.state.last_result).toMatchObject({
      uuid: 'u\\x1b]0;pwned\\x07\\r\\nnerves-hub-link is running',
      version: expect.stringMatching(/^\\x1b\[2Jv+… \(600004 characters\)$/),
      reason: expect.stringMatching(/^Update failed : \\x1b\[31mr+… \(10021 characters\)$/),
    });
    expect(read.state.last_result!.version!.length).toBeLessThanOrEqual(300);
    expect(read.state.reboot?.reason).toBe('why\\r\\nforged');

    // A file written by anyone else is shown escaped and bounded all the same.
    writeFileSync(
      join(dir, STATE_FILE),
      JSON.stringify({ ...read.state, identifier: `\x1b[2J${'i'.repeat(5_000)}` }),
    );
    const foreign = readStateFile(dir);
    expect(foreign.kind === 'ok' && foreign.state.identifier).toMatch(/^\\x1b\[2Ji+… \(5004 characters\)$/);
  });

  it('writes only what changes, and moves its modification time while nothing does', async () => {
    const dir = freshDir();
    const clock = { now: Date.now() };
    const file = new StateFile(
      dir,
      { identifier: 'dev-1', server: 'wss://hub.example/socket/websocket', firmware: { uuid: 'old' } },
      { logger, now: () => clock.now, heartbeatMs: 40 },
    );
    file.open();
    const path = join(dir, STATE_FILE);
    // Changes nothing: the file is not written again.
    writeFileSync(path, 'left alone');
    file.connection('connecting');
    file.reboot(undefined);
    file.dropped();
    expect(readFileSync(path, 'utf8')).toBe('left alone');
    file.connection('joined');
    const written = readFileSync(path, 'utf8');
    expect(JSON.parse(written).connection.state).toBe('joined');
    // Nothing changes for a while: only the modification time moves.
    utimesSync(path, new Date(0), new Date(0));
    clock.now += 1_000;
    await new Promise((resolve) => setTimeout(resolve, 150));
    expect(statSync(path).mtimeMs).toBeGreaterThan(Date.now() - 10_000);
    expect(readFileSync(path, 'utf8')).toBe(written);
    file.close();
    utimesSync(path, new Date(0), new Date(0));
    await new Promise((resolve) => setTimeout(resolve, 150));
    expect(statSync(path).mtimeMs).toBe(0);
  });

  it('a write that fails is logged once and does not throw', () => {
    const file = open(join(root, 'no', 'such', 'dir'), { now: 0 });
    file.open();
    file.connection('joined');
    expect(warnings.filter((warning) => warning.includes('could not write the status file'))).toHaveLength(1);
  });

  it('reads a damaged or foreign file as unreadable', () => {
    const dir = freshDir();
    expect(readStateFile(dir)).toEqual({ kind: 'missing' });
    writeFileSync(join(dir, STATE_FILE), '{"format": 1, ');
    expect(readStateFile(dir).kind).toBe('unreadable');
    writeFileSync(join(dir, STATE_FILE), '{"format": 99}');
    expect(readStateFile(dir)).toMatchObject({
      kind: 'unreadable',
      reason: expect.stringMatching(/unknown format 99/),
    });
  });
});

describe('readDaemonStatus', () => {
  const children: ChildProcess[] = [];
  afterEach(async () => {
    for (const child of children.splice(0)) {
      child.kill('SIGKILL');
      await once(child, 'exit').catch(() => {});
    }
  });

  async function until(condition: () => boolean): Promise<void> {
    for (let i = 0; i < 200 && !condition(); i++) await new Promise((resolve) => setTimeout(resolve, 10));
  }

  /** A live process whose command line is that of the daemon (node running nerves-hub-link.mjs). */
  async function liveDaemonProcess(): Promise<number> {
    const script = join(root, 'nerves-hub-link.mjs');
    writeFileSync(script, 'setInterval(() => {}, 1000);\n');
    const child = spawn(process.execPath, [script], { stdio: 'ignore' });
    children.push(child);
    await once(child, 'spawn');
    return child.pid!;
  }

  it('no lock: not running (3), with the last known state', () => {
    const dir = freshDir();
    expect(readDaemonStatus(dir)).toMatchObject({
      running: false,
      state: null,
      exitCode: STATUS_EXIT.notRunning,
    });
    open(dir, { now: 0 }).close();
    expect(readDaemonStatus(dir)).toMatchObject({
      running: false,
      current: false,
      state: { connection: { state: 'stopped' } },
      exitCode: 3,
    });
  });

  it('a stale lock (dead pid, or a process that is not nerves-hub-link) is not running', async () => {
    const dir = freshDir();
    const dead = spawn('true');
    await once(dead, 'exit');
    writeFileSync(join(dir, LOCK_FILE), `${dead.pid}\n`);
    expect(readDaemonStatus(dir).exitCode).toBe(STATUS_EXIT.notRunning);
    const other = spawn('sleep', ['30']);
    children.push(other);
    await once(other, 'spawn');
    writeFileSync(join(dir, LOCK_FILE), `${other.pid}\n`);
    expect(readDaemonStatus(dir).exitCode).toBe(STATUS_EXIT.notRunning);
  });

  it('a live daemon: 0 when joined, 2 otherwise; its own file only', async () => {
    const dir = freshDir();
    const pid = await liveDaemonProcess();
    writeFileSync(join(dir, LOCK_FILE), `${pid}\n`);
    // Before the daemon wrote its own file (an old one from another pid is there).
    open(dir, { now: 0 }).close();
    expect(readDaemonStatus(dir)).toMatchObject({
      running: true,
      pid,
      current: false,
      note: 'the daemon is starting: no status from it yet',
      exitCode: STATUS_EXIT.notConnected,
    });
    const write = (state: string) => {
      const read = readStateFile(dir);
      if (read.kind !== 'ok') throw new Error(read.kind);
      writeFileSync(
        join(dir, STATE_FILE),
        JSON.stringify({ ...read.state, pid, connection: { ...read.state.connection, state } }),
      );
    };
    write('joined');
    expect(readDaemonStatus(dir)).toMatchObject({
      running: true,
      connected: true,
      current: true,
      exitCode: 0,
    });
    for (const state of ['connecting', 'connected', 'disconnected']) {
      write(state);
      expect(readDaemonStatus(dir)).toMatchObject({ running: true, connected: false, exitCode: 2 });
    }
    writeFileSync(join(dir, STATE_FILE), 'garbage');
    expect(readDaemonStatus(dir)).toMatchObject({ running: true, exitCode: STATUS_EXIT.unknown });
  });

  it('a live daemon that does not move: stopped by SIGSTOP, or a status file that has not moved, exits 1', async () => {
    const dir = freshDir();
    const pid = await liveDaemonProcess();
    writeFileSync(join(dir, LOCK_FILE), `${pid}\n`);
    const first = open(dir, { now: Date.now() });
    first.connection('joined');
    const read = readStateFile(dir);
    if (read.kind !== 'ok') throw new Error(read.kind);
    writeFileSync(join(dir, STATE_FILE), JSON.stringify({ ...read.state, pid }));
    const modified = statSync(join(dir, STATE_FILE)).mtimeMs;
    expect(readDaemonStatus(dir, modified + 59_000)).toMatchObject({ responding: true, exitCode: 0 });
    expect(readDaemonStatus(dir, modified + 61_000)).toMatchObject({
      running: true,
      responding: false,
      connected: false,
      note: expect.stringMatching(/^its status file has not moved for 61 s \(it moves every 15 s\)/),
      exitCode: STATUS_EXIT.notResponding,
    });
    // A file from the future (the clock was set back): fresh.
    expect(readDaemonStatus(dir, modified - 3_600_000)).toMatchObject({ responding: true, exitCode: 0 });
    process.kill(pid, 'SIGSTOP');
    try {
      await until(() => readDaemonStatus(dir).responding === false);
      expect(readDaemonStatus(dir)).toMatchObject({
        responding: false,
        note: expect.stringMatching(/it is stopped \(SIGSTOP or a debugger\)/),
        exitCode: 1,
      });
    } finally {
      process.kill(pid, 'SIGCONT');
    }
    await until(() => readDaemonStatus(dir).responding);
    expect(readDaemonStatus(dir).exitCode).toBe(0);
  });
});
