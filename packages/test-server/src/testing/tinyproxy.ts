/**
 * A real HTTP proxy for tests: Debian's tinyproxy, run in the foreground on 127.0.0.1 with a generated config in
 * a temporary folder, optionally demanding Basic credentials. Its log tells which CONNECT tunnels it opened.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { accessSync, constants, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { type AddressInfo, connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';

export interface TinyproxyOptions {
  /** Demand these credentials (tinyproxy `BasicAuth`: letters, digits, `-`, `.` and `_` only). */
  readonly credentials?: { readonly user: string; readonly password: string };
}

export interface Tinyproxy {
  /** `http://127.0.0.1:<port>` */
  readonly url: string;
  readonly port: number;
  /** Process id of tinyproxy (e.g. to read its CPU time in /proc). */
  readonly pid: number;
  /** `http://user:password@127.0.0.1:<port>` */
  urlWith(user: string, password: string): string;
  /** Everything tinyproxy logged so far. */
  log(): string;
  /** `host:port` of every CONNECT request it received, in order (refused ones included). */
  connects(): string[];
  stop(): Promise<void>;
}

/** Where tinyproxy is installed, or undefined (tests then skip, saying why). */
export function tinyproxyPath(): string | undefined {
  const dirs = [...(process.env.PATH ?? '').split(delimiter), '/usr/bin', '/usr/sbin'];
  for (const dir of dirs) {
    if (!dir) continue;
    const candidate = join(dir, 'tinyproxy');
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {}
  }
  return undefined;
}

/** Starts tinyproxy and resolves once it accepts connections. Throws when it is not installed or does not start. */
export async function startTinyproxy(options: TinyproxyOptions = {}): Promise<Tinyproxy> {
  const program = tinyproxyPath();
  if (!program) throw new Error('tinyproxy is not installed (apt-get install tinyproxy)');
  const dir = mkdtempSync(join(tmpdir(), 'tinyproxy-'));
  const logFile = join(dir, 'tinyproxy.log');
  try {
    const port = await freePort();
    const config = join(dir, 'tinyproxy.conf');
    writeFileSync(
      config,
      [
        `Port ${port}`,
        'Listen 127.0.0.1',
        'Allow 127.0.0.1',
        // Long enough for a WebSocket between heartbeats; the default would close idle tunnels after 600 s too.
        'Timeout 600',
        'MaxClients 100',
        'LogLevel Info',
        `LogFile "${logFile}"`,
        // No ConnectPort line: CONNECT may reach any port (the default config allows only 443 and 563).
        ...(options.credentials
          ? [`BasicAuth ${options.credentials.user} ${options.credentials.password}`]
          : []),
        '',
      ].join('\n'),
    );
    writeFileSync(logFile, '');
    const child = spawn(program, ['-d', '-c', config], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr?.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    const exited = once(child, 'exit');
    await waitUntilListening(port, child, () => `${stderr}${readLog(logFile)}`);
    const url = `http://127.0.0.1:${port}`;
    return {
      url,
      port,
      pid: child.pid!,
      urlWith: (user, password) =>
        `http://${encodeURIComponent(user)}:${encodeURIComponent(password)}@127.0.0.1:${port}`,
      log: () => readLog(logFile),
      connects: () =>
        [...readLog(logFile).matchAll(/Request \(file descriptor \d+\): CONNECT (\S+) HTTP/g)].map(
          (match) => match[1]!,
        ),
      async stop() {
        if (child.exitCode === null && child.signalCode === null) {
          child.kill('SIGTERM');
          const killer = setTimeout(() => child.kill('SIGKILL'), 2_000);
          await exited;
          clearTimeout(killer);
        }
        rmSync(dir, { recursive: true, force: true });
      },
    };
  } catch (error) {
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
}

function readLog(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return '';
  }
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

async function waitUntilListening(port: number, child: ChildProcess, output: () => string): Promise<void> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(
        `tinyproxy exited (${child.exitCode ?? child.signalCode}) before listening:\n${output()}`,
      );
    }
    if (await accepts(port)) return;
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`tinyproxy did not listen on 127.0.0.1:${port} within 10 s:\n${output()}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port }, () => {
      socket.destroy();
      resolve(true);
    });
    socket.on('error', () => resolve(false));
  });
}
