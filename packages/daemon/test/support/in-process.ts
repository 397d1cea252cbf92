// The daemon in the test's own process, against the test-server over real TLS sockets, with real hooks and the
// fake fwup, on a clock the test moves by hand: the daemon's own decisions (re-asks, postponed reboots, the status
// bound's minute) follow that clock, so an hour of a misbehaving hook runs in a moment. What NervesHub records
// is read from the test-server, whose clock is the same one.
import { mkdirSync } from 'node:fs';
import { Writable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { loadConfig } from '../../src/config/load.js';
import { Daemon, type DaemonExit } from '../../src/lifecycle/daemon.js';
import { prepareDevice } from '../../src/lifecycle/prepare-device.js';
import { createLogger } from '../../src/log/logger.js';
import type { ManualClock } from '../../src/runtime/manual-clock.js';
import type { Device } from './harness.js';

export interface LogLine {
  readonly level: string;
  readonly msg: string;
}

export interface InProcessDaemon {
  readonly daemon: Daemon;
  readonly exited: Promise<DaemonExit>;
  logs(): readonly LogLine[];
  /** Log messages (at any level) matching `pattern`. */
  messages(pattern: RegExp): string[];
  /** Stops it as SIGTERM does; resolves with how long that took. */
  stop(): Promise<number>;
}

/** What ends the handling of one offer, as the update manager logs it: exactly one line per offer. */
export const OFFER_OUTCOME =
  /^update (message ignored: |\S+ not answered: |\S+ failed: |\S+: completed$|\S+( \([^)]*\))? (ignored: |rescheduled for |rescheduled: ))/;

export async function startInProcess(device: Device, clock: ManualClock): Promise<InProcessDaemon> {
  const lines: LogLine[] = [];
  let partial = '';
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      partial += chunk.toString();
      const complete = partial.split('\n');
      partial = complete.pop() ?? '';
      for (const line of complete) if (line) lines.push(JSON.parse(line) as LogLine);
      done();
    },
  });
  const logger = createLogger({ format: 'json', level: 'debug', stream });
  const { config } = loadConfig(device.configFile);
  mkdirSync(config.dataDir, { recursive: true, mode: 0o700 });
  const setup = await prepareDevice(config, logger);
  const daemon = new Daemon(config, setup, logger, { clock });
  const exited = daemon.run();
  return {
    daemon,
    exited,
    logs: () => lines,
    messages: (pattern) => lines.map((line) => line.msg).filter((msg) => pattern.test(msg)),
    async stop() {
      const started = performance.now();
      await daemon.stop('SIGTERM');
      await exited;
      return performance.now() - started;
    },
  };
}

/** Polls `probe` (real time) until it returns something other than undefined or false. */
export async function until<T>(
  what: string,
  probe: () => T | undefined | false,
  timeoutMs = 15_000,
): Promise<T> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const value = probe();
    if (value !== undefined && value !== false) return value;
    if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(5);
  }
}
