// Test helpers: wait for events with a deadline, and close everything a test opened.
import type {
  Channel,
  PhoenixChannelError,
  Socket,
  SocketOptions,
  TimerHandle,
  Timers,
} from '../../src/index.js';
import { Socket as SocketClass } from '../../src/index.js';

type Closable = { close(): Promise<void> } | { stop(): Promise<void> };

const opened: Closable[] = [];

/** Registers something to close after the test. */
export function track<T extends Closable>(thing: T): T {
  opened.push(thing);
  return thing;
}

/** Closes everything registered with `track`, newest first. */
export async function closeAll(): Promise<void> {
  while (opened.length > 0) {
    const thing = opened.pop()!;
    await ('close' in thing ? thing.close() : thing.stop());
  }
}

/**
 * `timers` for a socket whose backoff waits the test ends itself: every wait is held, in order, until `runNext()`
 * runs the first one; none runs on its own.
 */
export function heldTimers(): {
  timers: Timers;
  readonly pending: ReadonlyArray<{ readonly delayMs: number }>;
  runNext(): number;
} {
  const pending: Array<{ delayMs: number; run: () => void; handle: TimerHandle }> = [];
  return {
    timers: {
      setTimeout(run, delayMs) {
        const handle: TimerHandle = { unref: () => handle };
        pending.push({ delayMs, run, handle });
        return handle;
      },
      clearTimeout(handle) {
        const at = pending.findIndex((each) => each.handle === handle);
        if (at !== -1) pending.splice(at, 1);
      },
    },
    pending,
    runNext() {
      const next = pending.shift();
      if (!next) throw new Error('no wait is pending');
      next.run();
      return next.delayMs;
    },
  };
}

/** Fast timings for tests; callers override what they test. */
export function fastOptions(overrides: SocketOptions = {}): SocketOptions {
  return {
    heartbeatIntervalMs: 200,
    reconnectAfterMs: () => 50,
    connectTimeoutMs: 5_000,
    closeTimeoutMs: 500,
    ...overrides,
  };
}

/** A socket with fast timings, closed after the test; its errors are collected. */
export function openSocket(
  url: string,
  options: SocketOptions = {},
): { socket: Socket; errors: PhoenixChannelError[] } {
  const socket = track(new SocketClass(url, fastOptions(options)));
  const errors: PhoenixChannelError[] = [];
  socket.on('error', (error) => errors.push(error));
  return { socket, errors };
}

/** Resolves with the (first) argument of the next `event` of a socket, or rejects after `timeoutMs`. */
export function nextSocketEvent(
  socket: Socket,
  event: 'open' | 'close' | 'error' | 'reconnecting',
  timeoutMs = 10_000,
): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      socket.off(event, listener);
      reject(new Error(`no "${event}" within ${timeoutMs} ms`));
    }, timeoutMs);
    const listener = (arg?: unknown) => {
      clearTimeout(timer);
      socket.off(event, listener);
      resolve(arg);
    };
    socket.on(event, listener);
  });
}

/** Resolves with the argument of the next lifecycle or server event of a channel. */
export function nextChannelEvent(channel: Channel, event: string, timeoutMs = 10_000): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      channel.off(event, listener);
      reject(new Error(`no "${event}" on "${channel.topic}" within ${timeoutMs} ms`));
    }, timeoutMs);
    const listener = (arg: unknown) => {
      clearTimeout(timer);
      channel.off(event, listener);
      resolve(arg);
    };
    channel.on(event, listener);
  });
}

/** Waits until `predicate` holds, polling every 10 ms. */
export async function until(predicate: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
