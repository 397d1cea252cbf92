// A real datagram listener on $NOTIFY_SOCKET (python3 binds AF_UNIX SOCK_DGRAM; node cannot), for the tests of
// what the daemon tells systemd.
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const LISTENER = fileURLToPath(new URL('./notify-listener.py', import.meta.url));

export interface NotifyMessage {
  /** When the datagram arrived, in milliseconds since the epoch. */
  readonly at: number;
  /** The sender's pid, from its credentials. */
  readonly pid: number | null;
  readonly fields: Readonly<Record<string, string>>;
}

export interface NotifySocket {
  readonly path: string;
  readonly messages: readonly NotifyMessage[];
  /** Resolves with the first message (from `from` on) that `match` accepts. */
  waitFor(
    match: (message: NotifyMessage) => boolean,
    timeoutMs?: number,
    from?: number,
  ): Promise<NotifyMessage>;
  close(): Promise<void>;
}

export async function listenNotifySocket(dir: string, name = 'notify.sock'): Promise<NotifySocket> {
  const path = join(dir, name);
  const child: ChildProcess = spawn('python3', [LISTENER, path], { stdio: ['ignore', 'pipe', 'inherit'] });
  const messages: NotifyMessage[] = [];
  const waiters = new Set<() => void>();
  let buffered = '';
  let listening!: () => void;
  const ready = new Promise<void>((resolve) => {
    listening = resolve;
  });
  child.stdout!.on('data', (chunk: Buffer) => {
    buffered += chunk;
    let newline = buffered.indexOf('\n');
    while (newline !== -1) {
      const line = JSON.parse(buffered.slice(0, newline));
      buffered = buffered.slice(newline + 1);
      if (line.listening) listening();
      else messages.push(line as NotifyMessage);
      newline = buffered.indexOf('\n');
    }
    for (const waiter of waiters) waiter();
  });
  await Promise.race([
    ready,
    once(child, 'exit').then(() => {
      throw new Error('the notify listener (python3) did not start');
    }),
  ]);
  return {
    path,
    messages,
    waitFor(match, timeoutMs = 15_000, from = 0) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const found = messages.slice(from).find(match);
          if (!found) return;
          cleanup();
          resolve(found);
        };
        const timer = setTimeout(() => {
          cleanup();
          reject(
            new Error(
              `no notify message as expected within ${timeoutMs} ms; got:\n${JSON.stringify(messages)}`,
            ),
          );
        }, timeoutMs);
        const cleanup = () => {
          clearTimeout(timer);
          waiters.delete(check);
        };
        waiters.add(check);
        check();
      });
    },
    async close() {
      if (child.exitCode !== null) return;
      child.kill();
      await once(child, 'exit');
    },
  };
}
