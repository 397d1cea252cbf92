// The suite's devices and servers: a device (config, firmware environment, disk image, data dir) written by the
// test-server's device-config writer, a test-server per test file, and the bundled daemon run as a real child
// process (the end-to-end tests). In-process daemons are in in-process.ts; startJoinedDevice (joined-device.ts)
// makes a device and starts either kind.
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  deviceConfig,
  type FirmwareFile,
  fakeFwupPath,
  firmwareEnvironment,
  startTestServer,
  type TestServer,
  type TestServerOptions,
  type TomlTable,
} from '@nerves-hub-link/test-server';
import { smallFixtures } from '@nerves-hub-link/test-server/fixtures';
import { afterAll, beforeAll } from 'vitest';
import { Output } from './output.js';

export const BUNDLE = fileURLToPath(new URL('../../dist/nerves-hub-link.mjs', import.meta.url));
/** A file of the test-server's small fixtures (`small-signed.fw`, `fwup-key.pub` …). */
export const fixture = (name: string) => join(smallFixtures.dir, name);
export const RUNNING_UUID = '0a6f1b4e-0000-4000-8000-000000000001';
/** The public key that signed small-signed.fw and small-signed-tampered.fw. */
export const FWUP_KEY = readFileSync(smallFixtures.publicKey, 'utf8').trim();

export interface Device {
  readonly identifier: string;
  readonly dir: string;
  readonly configFile: string;
  /** The firmware environment the daemon reads (`[metadata] file`), as fw_printenv prints it. */
  readonly envFile: string;
  readonly disk: string;
  readonly dataDir: string;
  readonly fwupLog: string;
  /** fwup invocations other than `--version`. */
  fwupRuns(): string[][];
  downloads(): string[];
}

export interface DeviceOptions {
  readonly auth?: 'mtls' | 'shared_secret';
  /** @default the test-server's fake fwup */
  readonly fwupPath?: string;
  /**
   * `server`: no key in the config; the device asks NervesHub for the organization's signing keys when it joins
   * (the suite's server holds FWUP_KEY unless `useTestServer` was told otherwise). `configured`:
   * `fwup.public_keys` holds FWUP_KEY. @default 'server'
   */
  readonly keys?: 'server' | 'configured';
  /** The version of the running firmware (`a.nerves_fw_version`). @default "1.0.0" */
  readonly version?: string;
  /** Whether the running firmware is validated (`a.nerves_fw_validated`). @default true */
  readonly validated?: boolean;
  /** Variables of every fwup run (`[fwup.env]`), e.g. the fake's FAKE_FWUP_DELAY_MS. */
  readonly fwupEnv?: Readonly<Record<string, string>>;
  /** `[metadata] command` (e.g. `["fw_printenv", "-c", …]`) instead of the device's own environment file. */
  readonly metadataCommand?: readonly string[];
  /** More config, merged over the suite's (see deviceConfig's `settings`). */
  readonly settings?: TomlTable;
}

/** The suite's own settings: quick heartbeats and stall detection, and a log of what fwup was asked to do. */
function suiteSettings(fwupLog: string, options: DeviceOptions): TomlTable {
  return mergeSettings(
    {
      heartbeat_interval_ms: 1000,
      download: { idle_timeout_ms: 1000 },
      fwup: { env: { FAKE_FWUP_LOG: fwupLog, ...options.fwupEnv } },
    },
    options.settings ?? {},
  );
}

export async function createDevice(
  server: TestServer,
  root: string,
  identifier: string,
  options: DeviceOptions = {},
): Promise<Device> {
  const dir = join(root, identifier);
  mkdirSync(dir, { recursive: true });
  const disk = join(dir, 'disk.img');
  const dataDir = join(dir, 'data');
  const envFile = join(dir, 'uboot.env');
  const fwupLog = join(dir, 'fwup.log');
  writeFileSync(
    envFile,
    firmwareEnvironment({
      devpath: disk,
      uuid: RUNNING_UUID,
      validated: options.validated ?? true,
      ...(options.version !== undefined ? { version: options.version } : {}),
    }),
  );
  const shared = (options.auth ?? 'mtls') === 'shared_secret';
  let auth: Parameters<typeof deviceConfig>[0]['auth'];
  if (!shared) {
    const cert = await server.issueDeviceCertificate(identifier);
    auth = { method: 'mtls', certFile: cert.certFile, keyFile: cert.keyFile };
  } else {
    const key = `nhd_${identifier}`;
    server.addDeviceKey(key, `secret-of-${identifier}`, identifier);
    const secretFile = join(dir, 'secret');
    writeFileSync(secretFile, `secret-of-${identifier}`, { mode: 0o600 });
    auth = { method: 'shared_secret', key, secretFile };
  }
  const configFile = join(dir, 'config.toml');
  writeFileSync(
    configFile,
    deviceConfig({
      uri: shared ? server.sharedSecretUrl : server.mtlsUrl,
      deviceDir: dir,
      identifier,
      auth,
      caFile: server.ca.certFile,
      fwupPath: options.fwupPath ?? fakeFwupPath,
      signingKeys: (options.keys ?? 'server') === 'server',
      ...(options.keys === 'configured' ? { publicKeys: [FWUP_KEY] } : {}),
      allowUnsigned: false,
      ...(options.metadataCommand ? { metadataCommand: options.metadataCommand } : { metadataFile: envFile }),
      settings: suiteSettings(fwupLog, options),
    }),
    { mode: 0o600 },
  );
  return {
    identifier,
    dir,
    configFile,
    envFile,
    disk,
    dataDir,
    fwupLog,
    fwupRuns: () =>
      existsSync(fwupLog)
        ? readFileSync(fwupLog, 'utf8')
            .trim()
            .split('\n')
            .map((line) => JSON.parse(line).argv as string[])
            .filter((argv) => argv[0] !== '--version')
        : [],
    downloads: () => (existsSync(join(dataDir, 'downloads')) ? readdirSync(join(dataDir, 'downloads')) : []),
  };
}

/** `settings` over `base`, table by table. */
export function mergeSettings(base: TomlTable, settings: TomlTable): TomlTable {
  const merged: Record<string, TomlTable[string]> = { ...base };
  for (const [key, value] of Object.entries(settings)) {
    const under = merged[key];
    merged[key] =
      isTable(value) && under !== undefined && isTable(under) ? mergeSettings(under, value) : value;
  }
  return merged;
}

const isTable = (value: TomlTable[string]): value is TomlTable =>
  typeof value === 'object' && !Array.isArray(value);

/** How a daemon ended: its exit code, or the signal that killed the process. */
export interface DaemonEnd {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

/** What a test does with a running daemon, whether a child process or in the test process. */
export interface RunningDaemon {
  output(): string;
  waitForOutput(pattern: RegExp, timeoutMs?: number): Promise<RegExpMatchArray>;
  readonly exited: Promise<DaemonEnd>;
  /** `exited`, failing after `timeoutMs` with what the daemon printed. @default 15000 */
  waitForExit(timeoutMs?: number): Promise<DaemonEnd>;
  /** SIGTERM or SIGINT: sent to the process, or given to the daemon's own handler in-process. */
  stop(signal?: 'SIGTERM' | 'SIGINT'): void;
}

export interface DaemonProcess extends RunningDaemon {
  readonly child: ChildProcess;
}

const processes = new Set<ChildProcess>();

export function startDaemon(args: string[], env: Record<string, string> = {}): DaemonProcess {
  const child = spawn(process.execPath, [BUNDLE, ...args], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  processes.add(child);
  const output = new Output();
  const collect = (chunk: Buffer) => output.append(chunk.toString());
  child.stdout!.on('data', collect);
  child.stderr!.on('data', collect);
  const exited = once(child, 'exit').then(([code, signal]) => {
    processes.delete(child);
    return { code: code as number | null, signal: signal as NodeJS.Signals | null };
  });
  return {
    child,
    output: () => output.text(),
    exited,
    waitForOutput: (pattern, timeoutMs) => output.waitFor(pattern, timeoutMs),
    waitForExit: (timeoutMs) => untilExit(exited, output, timeoutMs),
    stop: (signal = 'SIGTERM') => void child.kill(signal),
  };
}

/** `exited`, or a failure after `timeoutMs` that says so and shows the output. */
export function untilExit(
  exited: Promise<DaemonEnd>,
  output: Output,
  timeoutMs = 15_000,
): Promise<DaemonEnd> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(
      () => reject(new Error(`the daemon did not exit within ${timeoutMs} ms; output:\n${output.text()}`)),
      timeoutMs,
    );
  });
  return Promise.race([exited, late]).finally(() => clearTimeout(timer));
}

export function runDaemon(
  device: Device,
  env: Record<string, string> = {},
  args: string[] = [],
): DaemonProcess {
  return startDaemon(['run', '--config', device.configFile, ...args], env);
}

/** Ends daemon processes a failed test left running. */
export async function killLeftoverProcesses(): Promise<void> {
  await Promise.all(
    [...processes].map((child) => {
      const gone = once(child, 'exit');
      child.kill('SIGKILL');
      return gone;
    }),
  );
}

export function statuses(server: TestServer, identifier: string): string[] {
  return server
    .device(identifier)
    .events.filter((event) => event.event === 'status_update')
    .map((event) => event.payload.status as string);
}

export interface E2EContext {
  /** Set before the tests run. */
  readonly server: TestServer;
  readonly root: string;
  firmware(fixtureName: string): FirmwareFile;
}

const beforeClose: Array<() => Promise<void>> = [killLeftoverProcesses];

/** Runs before the suite's servers close (in-process daemons a failed test left running are stopped there). */
export function beforeServersClose(step: () => Promise<void>): void {
  beforeClose.push(step);
}

/**
 * Starts a test-server serving `fixtures` and a scratch folder for the suite; both are removed afterwards. The
 * server holds FWUP_KEY as the organization's signing key (sent to devices that join without keys of their own),
 * unless `signingKey` is false.
 */
export function useTestServer(
  prefix: string,
  fixtures: readonly string[],
  options: { readonly signingKey?: boolean; readonly server?: TestServerOptions } = {},
): E2EContext {
  const state: { server?: TestServer; root?: string; files: Map<string, FirmwareFile> } = {
    files: new Map(),
  };
  beforeAll(async () => {
    state.server = await startTestServer(options.server);
    if (options.signingKey ?? true) state.server.addSigningKey(FWUP_KEY);
    for (const name of fixtures) state.files.set(name, await state.server.addFirmware(fixture(name)));
    state.root = mkdtempSync(join(tmpdir(), prefix));
  });
  afterAll(async () => {
    for (const step of beforeClose) await step();
    await state.server?.close();
    if (state.root) rmSync(state.root, { recursive: true, force: true });
  });
  return {
    get server() {
      return state.server!;
    },
    get root() {
      return state.root!;
    },
    firmware: (name) => state.files.get(name)!,
  };
}
