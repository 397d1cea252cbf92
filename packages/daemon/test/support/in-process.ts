// The daemon in the test process: the same steps as the CLI's `run` (config, data_dir, lock, stale downloads,
// device setup, the Daemon) against the real test-server over real TLS, with the real fake fwup and hooks as
// child processes, but on a ManualClock: every wait of the daemon (the validation poll and deadline, the
// reconnect backoff, windows, reschedules, reboot postponements, the wait for keys, the wait between download
// attempts) is over when the test moves the clock, never by itself. What it logs is kept, as a process's output would be.
import { mkdirSync } from 'node:fs';
import { Writable } from 'node:stream';
import { ManualClock, type ManualTimer } from '@nerves-hub-link/test-server/testing';
import { loadConfig } from '../../src/config/load.js';
import { Daemon } from '../../src/lifecycle/daemon.js';
import { prepareDevice } from '../../src/lifecycle/prepare-device.js';
import { acquireLock } from '../../src/local/lock.js';
import { createLogger, type LogLevel } from '../../src/log/logger.js';
import { removeStaleDownloads } from '../../src/update/download-folder.js';
import { type BootClock, systemBootClock } from '../../src/validation/boot-clock.js';
import { beforeServersClose, type DaemonEnd, type Device, type RunningDaemon, untilExit } from './harness.js';
import { Output } from './output.js';

export interface InProcessOptions {
  /** @default a ManualClock on the system time */
  readonly clock?: ManualClock;
  /** `--log-format`. @default 'human' */
  readonly logFormat?: 'human' | 'json';
  /** `--log-level`. @default 'info' */
  readonly logLevel?: LogLevel;
}

export interface InProcessDaemon extends RunningDaemon {
  readonly daemon: Daemon;
  readonly clock: ManualClock;
  /**
   * Waits for a timer that `matches` (any by default) to be set on the clock, then moves the clock to it, so it
   * runs at once (with any timer due before it); fails naming `what` if none is set.
   */
  runTimer(what: string, matches?: (timer: ManualTimer) => boolean): Promise<ManualTimer>;
  /** The messages it logged (at any level, with `logFormat: 'json'`) that match `pattern`, in order. */
  messages(pattern: RegExp): string[];
  /** Stops it as SIGTERM does; resolves with how long that took, in ms. */
  stopAndWait(): Promise<number>;
}

/** What ends the handling of one offer, as the update manager logs it: exactly one line per offer. */
export const OFFER_OUTCOME =
  /^update (message ignored: |\S+ not answered: |\S+ failed: |\S+: completed$|\S+( \([^)]*\))? (ignored: |rescheduled for |rescheduled: ))/;

const running = new Set<InProcessDaemon>();

beforeServersClose(async () => {
  for (const each of [...running]) each.stop();
  await Promise.all([...running].map((each) => each.exited));
});

export async function runInProcess(device: Device, options: InProcessOptions = {}): Promise<InProcessDaemon> {
  const clock = options.clock ?? new ManualClock();
  const output = new Output();
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      output.append(chunk.toString());
      done();
    },
  });
  const logger = createLogger({
    format: options.logFormat ?? 'human',
    level: options.logLevel ?? 'info',
    stream,
    isTTY: false,
    now: () => clock.now(),
  });
  const { config, warnings } = loadConfig(device.configFile);
  if (config.auth.method === 'shared_secret') logger.addSecret(config.auth.secret);
  for (const warning of warnings) logger.warn(warning);
  mkdirSync(config.dataDir, { recursive: true, mode: 0o700 });
  const lock = acquireLock(config.dataDir, logger);
  let daemon: Daemon;
  try {
    await removeStaleDownloads(config.dataDir, logger);
    const setup = await prepareDevice(config, logger, { clock });
    daemon = new Daemon(config, setup, logger, { clock, bootClock: bootClockOf(clock) });
  } catch (error) {
    lock.release();
    throw error;
  }
  const exited: Promise<DaemonEnd> = daemon
    .run()
    .then(({ exitCode }) => ({ code: exitCode, signal: null }))
    .finally(() => {
      lock.release();
      running.delete(handle);
    });
  const handle: InProcessDaemon = {
    daemon,
    clock,
    output: () => output.text(),
    waitForOutput: (pattern, timeoutMs) => output.waitFor(pattern, timeoutMs),
    exited,
    waitForExit: (timeoutMs) => untilExit(exited, output, timeoutMs),
    stop: (signal = 'SIGTERM') => void daemon.stop(signal),
    async runTimer(what, matches) {
      const timer = await clock.whenPending(what, matches);
      clock.advance(Math.max(0, timer.dueAt - clock.now()));
      return timer;
    },
    messages: (pattern) => loggedMessages(output.text()).filter((message) => pattern.test(message)),
    async stopAndWait() {
      const started = performance.now();
      await daemon.stop('SIGTERM');
      await exited;
      return performance.now() - started;
    },
  };
  running.add(handle);
  return handle;
}

/** The time since boot, moved forward with `clock`: a deadline on it passes when the test moves the clock. */
function bootClockOf(clock: ManualClock): BootClock {
  return {
    uptimeMs: () => systemBootClock.uptimeMs() + clock.movedMs,
    bootId: () => systemBootClock.bootId(),
  };
}

/** The `msg` of each JSON log line; a line that is not JSON (human format) counts whole. */
function loggedMessages(text: string): string[] {
  return text
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => {
      try {
        const parsed: unknown = JSON.parse(line);
        if (parsed && typeof parsed === 'object' && 'msg' in parsed && typeof parsed.msg === 'string')
          return parsed.msg;
      } catch {}
      return line;
    });
}
