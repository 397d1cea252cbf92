/**
 * Messages to the service manager (sd_notify(3): `READY=1`, `STATUS=…`, `WATCHDOG=1`, `EXTEND_TIMEOUT_USEC=…`,
 * `STOPPING=1`) on the datagram socket systemd names in `$NOTIFY_SOCKET`.
 *
 * Node has no AF_UNIX datagram sockets, and a native addon is one more thing to build for every device
 * architecture. So each message is sent by `systemd-notify`, which ships with systemd on every device that has a
 * `$NOTIFY_SOCKET`: one short process per message (about 6 ms of CPU, bench/notify.bench.mjs). It sends under its
 * own pid, which systemd accepts from any process of the unit with `NotifyAccess=all`, and it waits until systemd
 * has read the message (its BARRIER) before it exits, so the message is never dropped as coming from a process
 * that is gone. Messages go one process at a time, in order; what comes in while one is under way is merged into
 * the next (the newest `STATUS=` wins), so a slow manager never piles up processes.
 */
import { spawn } from 'node:child_process';

/** sd_notify variables, e.g. `{ READY: '1', STATUS: 'idle' }`. */
export type NotifyFields = Readonly<Record<string, string>>;

export interface ServiceNotifier {
  /** False when no service manager listens (`$NOTIFY_SOCKET` unset): `send` then does nothing. */
  readonly enabled: boolean;
  send(fields: NotifyFields): void;
  /** Resolves when every message sent so far has been handed over. */
  flush(): Promise<void>;
}

export interface NotifierOptions {
  /** The socket's address as systemd gives it (a path, or `@name` for the abstract namespace). */
  readonly socket: string | undefined;
  /** @default 'systemd-notify' (found on PATH) */
  readonly program?: string;
  /** Told once when a message cannot be handed over (no systemd-notify, say). */
  readonly onError?: (message: string) => void;
}

/** A systemd-notify run that takes longer than this is stopped; its message is lost, the next one goes on. */
const SEND_TIMEOUT_MS = 10_000;

/** `$NOTIFY_SOCKET`, taken out of the environment so that fwup, hooks and commands do not inherit it. */
export function takeNotifySocket(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const socket = env.NOTIFY_SOCKET || undefined;
  delete env.NOTIFY_SOCKET;
  return socket;
}

export function createServiceNotifier(options: NotifierOptions): ServiceNotifier {
  const { socket } = options;
  const program = options.program ?? 'systemd-notify';
  let pending: Record<string, string> | undefined;
  let running: Promise<void> | undefined;
  let warned = false;

  const fail = (message: string) => {
    if (warned) return;
    warned = true;
    options.onError?.(message);
  };

  const runOnce = (fields: Record<string, string>) =>
    new Promise<void>((resolve) => {
      // Values are one line each: sd_notify separates variables by newlines.
      const args = Object.entries(fields).map(([key, value]) => `${key}=${value.replace(/\s+/g, ' ')}`);
      const child = spawn(program, ['--', ...args], {
        env: { ...process.env, NOTIFY_SOCKET: socket },
        stdio: ['ignore', 'ignore', 'pipe'],
        timeout: SEND_TIMEOUT_MS,
        killSignal: 'SIGKILL',
      });
      let stderr = '';
      child.stderr!.on('data', (chunk: Buffer) => {
        stderr += chunk;
      });
      child.on('error', (error) => {
        const code = (error as NodeJS.ErrnoException).code;
        fail(
          code === 'ENOENT'
            ? `cannot tell systemd how the daemon is doing: ${program} not found (it comes with systemd)`
            : `cannot tell systemd how the daemon is doing: ${program}: ${error.message}`,
        );
        resolve();
      });
      child.on('close', (code, signal) => {
        if (code !== 0 && code !== null) {
          fail(
            `cannot tell systemd how the daemon is doing: ${program} exited with ${code}: ${stderr.trim()}`,
          );
        } else if (signal) {
          fail(`cannot tell systemd how the daemon is doing: ${program} timed out`);
        }
        resolve();
      });
    });

  const drain = async () => {
    while (pending) {
      const fields = pending;
      pending = undefined;
      await runOnce(fields);
    }
    running = undefined;
  };

  return {
    enabled: socket !== undefined,
    send(fields) {
      if (socket === undefined) return;
      pending = { ...pending, ...fields };
      running ??= drain();
    },
    async flush() {
      await running;
    },
  };
}
