/**
 * systemd's watchdog (`WatchdogSec=`): `WATCHDOG=1` every half period, from a timer of the event loop. A loop
 * blocked for longer than the period sends nothing, and systemd restarts the daemon; a slow or silent network does
 * not block the loop, so it never stops the beat. The timer is unref'd: it never keeps the process alive.
 */
import type { ServiceNotifier } from './service-notifier.js';

export interface Watchdog {
  /** The beat's interval, in milliseconds. */
  readonly intervalMs: number;
  stop(): void;
}

/**
 * The watchdog period systemd asks for, in milliseconds, as sd_watchdog_enabled(3) reads it: `$WATCHDOG_USEC`, for
 * this process when `$WATCHDOG_PID` is unset or names it. Both are taken out of the environment, so that nothing
 * the daemon runs believes the watchdog is its own.
 */
export function takeWatchdogPeriod(
  env: NodeJS.ProcessEnv = process.env,
  pid = process.pid,
): number | undefined {
  const usec = Number(env.WATCHDOG_USEC);
  const owner = env.WATCHDOG_PID;
  delete env.WATCHDOG_USEC;
  delete env.WATCHDOG_PID;
  if (!Number.isFinite(usec) || usec <= 0) return undefined;
  if (owner !== undefined && owner !== '' && Number(owner) !== pid) return undefined;
  return usec / 1000;
}

/** Beats every half `periodMs`; undefined when there is no period or no service manager. */
export function startWatchdog(notifier: ServiceNotifier, periodMs: number | undefined): Watchdog | undefined {
  if (periodMs === undefined || !notifier.enabled) return undefined;
  const intervalMs = Math.max(1, Math.floor(periodMs / 2));
  notifier.send({ WATCHDOG: '1' });
  const timer = setInterval(() => notifier.send({ WATCHDOG: '1' }), intervalMs);
  timer.unref();
  return { intervalMs, stop: () => clearInterval(timer) };
}
