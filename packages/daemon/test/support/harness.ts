// End-to-end harness: a device (config, bootloader environment, disk image, data dir) and the bundled daemon
// run as a real child process against the test-server.
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
  type FirmwareFile,
  fakeFwupPath,
  startTestServer,
  type TestServer,
  type TestServerOptions,
} from '@nerves-hub-link/test-server';
import { afterAll, beforeAll } from 'vitest';

export const BUNDLE = fileURLToPath(new URL('../../dist/nerves-hub-link.mjs', import.meta.url));
export const fixture = (name: string) => fileURLToPath(new URL(`../fixtures/${name}`, import.meta.url));
export const RUNNING_UUID = '0a6f1b4e-0000-4000-8000-000000000001';
/** The public key that signed small-signed.fw and small-signed-tampered.fw. */
export const FWUP_KEY = readFileSync(fixture('fwup-key.pub'), 'utf8').trim();

export interface Device {
  readonly identifier: string;
  readonly dir: string;
  readonly configFile: string;
  readonly disk: string;
  readonly dataDir: string;
  readonly fwupLog: string;
  /** fwup invocations other than `--version`. */
  fwupRuns(): string[][];
  downloads(): string[];
}

export interface DeviceOptions {
  readonly auth?: 'mtls' | 'shared_secret';
  /** Extra top-level TOML lines. */
  readonly top?: string[];
  readonly fwupLines?: string[];
  /** @default the test-server's fake fwup */
  readonly fwupPath?: string;
  readonly downloadLines?: string[];
  /**
   * `server`: no key in the config; the device asks NervesHub for the organization's signing keys when it joins
   * (the suite's server holds FWUP_KEY unless `useTestServer` was told otherwise). `configured`:
   * `fwup.public_keys` holds FWUP_KEY. @default 'server'
   */
  readonly keys?: 'server' | 'configured';
  /** Lines of `[metadata]` instead of the device's own key=value file (e.g. `command = ["fw_printenv", …]`). */
  readonly metadataLines?: string[];
  /** Whole tables appended at the end (`[validation]` and its keys). */
  readonly tables?: string[];
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
  writeFileSync(
    envFile,
    [
      'nerves_fw_active=a',
      `nerves_fw_devpath=${disk}`,
      `a.nerves_fw_uuid=${RUNNING_UUID}`,
      'a.nerves_fw_product=demo',
      'a.nerves_fw_version=1.0.0',
      'a.nerves_fw_platform=host',
      'a.nerves_fw_architecture=x86_64',
      'a.nerves_fw_validated=1',
      '',
    ].join('\n'),
  );
  let auth: string[];
  let uri: string;
  if ((options.auth ?? 'mtls') === 'mtls') {
    const cert = await server.issueDeviceCertificate(identifier);
    uri = server.mtlsUrl;
    auth = [
      'method = "mtls"',
      `cert_file = "${cert.certFile}"`,
      `key_file = "${cert.keyFile}"`,
      `ca_file = "${server.ca.certFile}"`,
    ];
  } else {
    const key = `nhd_${identifier}`;
    server.addDeviceKey(key, `secret-of-${identifier}`, identifier);
    const secretFile = join(dir, 'secret');
    writeFileSync(secretFile, `secret-of-${identifier}`, { mode: 0o600 });
    uri = server.sharedSecretUrl;
    auth = [
      'method = "shared_secret"',
      `key = "${key}"`,
      `secret_file = "${secretFile}"`,
      `ca_file = "${server.ca.certFile}"`,
    ];
  }
  const configFile = join(dir, 'config.toml');
  writeFileSync(
    configFile,
    [
      `uri = "${uri}"`,
      `data_dir = "${dataDir}"`,
      'heartbeat_interval_ms = 1000',
      ...(options.top ?? []),
      '[identity]',
      `serial = "${identifier}"`,
      '[auth]',
      ...auth,
      '[fwup]',
      `path = "${options.fwupPath ?? fakeFwupPath}"`,
      ...(options.keys === 'configured' ? [`public_keys = ["${FWUP_KEY}"]`] : []),
      ...(options.fwupLines ?? []),
      '[metadata]',
      ...(options.metadataLines ?? [`file = "${envFile}"`]),
      '[commands]',
      'reboot = ["echo", "would reboot now"]',
      '[download]',
      'idle_timeout_ms = 1000',
      ...(options.downloadLines ?? []),
      ...(options.tables ?? []),
      '',
    ].join('\n'),
    { mode: 0o600 },
  );
  const fwupLog = join(dir, 'fwup.log');
  return {
    identifier,
    dir,
    configFile,
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

export interface DaemonProcess {
  readonly child: ChildProcess;
  output(): string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  waitForOutput(pattern: RegExp, timeoutMs?: number): Promise<void>;
}

export function startDaemon(args: string[], env: Record<string, string> = {}): DaemonProcess {
  const child = spawn(process.execPath, [BUNDLE, ...args], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const waiters = new Set<() => void>();
  const collect = (chunk: Buffer) => {
    output += chunk.toString();
    for (const waiter of waiters) waiter();
  };
  child.stdout!.on('data', collect);
  child.stderr!.on('data', collect);
  const exited = once(child, 'exit').then(([code, signal]) => ({
    code: code as number | null,
    signal: signal as NodeJS.Signals | null,
  }));
  return {
    child,
    output: () => output,
    exited,
    waitForOutput(pattern, timeoutMs = 15_000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          if (!pattern.test(output)) return;
          cleanup();
          resolve();
        };
        const timer = setTimeout(() => {
          cleanup();
          reject(new Error(`no output matching ${pattern} within ${timeoutMs} ms; output:\n${output}`));
        }, timeoutMs);
        const cleanup = () => {
          clearTimeout(timer);
          waiters.delete(check);
        };
        waiters.add(check);
        check();
      });
    },
  };
}

export function runDaemon(
  device: Device,
  env: Record<string, string> = {},
  args: string[] = [],
): DaemonProcess {
  return startDaemon(['run', '--config', device.configFile, ...args], {
    FAKE_FWUP_LOG: device.fwupLog,
    ...env,
  });
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
