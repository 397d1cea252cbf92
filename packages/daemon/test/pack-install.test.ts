// The packages as a Node user meets them: every workspace package packed with `pnpm pack`, the tarballs
// installed with npm into a fresh project (third-party dependencies from the registry), a consumer of each
// public API compiled by a strict `tsc` and run, and the installed `nerves-hub-link` bin started.
// Needs the build (`pnpm test` builds first) and the npm registry, or an npm cache that holds ws, undici,
// smol-toml and the @types packages.
import { execFile } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, posix } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const run = promisify(execFile);

const WORKSPACE = fileURLToPath(new URL('../../../', import.meta.url));
const PACKAGES = join(WORKSPACE, 'packages');
const requireHere = createRequire(import.meta.url);
const TSC = requireHere.resolve('typescript/bin/tsc');
/** The consumer gets the Node types the workspace builds against. */
const TYPES_NODE_VERSION = (
  JSON.parse(readFileSync(join(WORKSPACE, 'node_modules/@types/node/package.json'), 'utf8')) as Manifest
).version;
/** No tarball comes near this; a stray binary (the 87 MB single executable) would. */
const MAX_TARBALL_BYTES = 2 * 1024 * 1024;
/** What a tarball may hold at its top level. */
const SHIPPED_ROOTS = new Set([
  'package.json',
  'README.md',
  'CHANGELOG.md',
  'LICENSE',
  'dist',
  'src',
  'bin',
  'examples',
  // test-server: the recorded fwup archives its fake replays.
  'fixtures',
  'schema.json',
  'systemd',
  // The test-server ships the firmware fixtures it exports (`@nerves-hub-link/test-server/fixtures`).
  'fixtures',
]);

interface Manifest {
  name: string;
  version: string;
  private?: boolean;
  license?: string;
  engines?: { node?: string };
  dependencies?: Record<string, string>;
  bin?: Record<string, string>;
}

interface Packed {
  readonly name: string;
  readonly version: string;
  readonly tarball: string;
  readonly bytes: number;
  /** Paths inside the tarball, relative to its `package/` folder. */
  readonly files: readonly string[];
}

const packageDirs = readdirSync(PACKAGES)
  .map((name) => join(PACKAGES, name))
  .filter((dir) => existsSync(join(dir, 'package.json')))
  .filter((dir) => !(JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as Manifest).private);

let work: string;
let consumer: string;
const packed: Packed[] = [];

async function pack(dir: string, destination: string): Promise<Packed> {
  if (!existsSync(join(dir, 'dist/index.js'))) {
    throw new Error(`${dir} is not built; run \`pnpm turbo run build\` first`);
  }
  const { stdout } = await run('pnpm', ['pack', '--pack-destination', destination, '--json'], { cwd: dir });
  const result = JSON.parse(stdout) as {
    name: string;
    version: string;
    filename: string;
    files: { path: string }[];
  };
  const tarball = result.filename.startsWith('/') ? result.filename : join(destination, result.filename);
  return {
    name: result.name,
    version: result.version,
    tarball,
    bytes: (await stat(tarball)).size,
    files: result.files.map((file) => file.path).sort(),
  };
}

function installedDir(name: string): string {
  return join(consumer, 'node_modules', name);
}

function manifestOf(dir: string): Manifest {
  return JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as Manifest;
}

/** Where Node finds `name` from a package in `fromDir`: its own node_modules, then each parent's. */
function resolvePackageDir(name: string, fromDir: string): string {
  for (let dir = fromDir; ; dir = dirname(dir)) {
    const candidate = join(dir, 'node_modules', name);
    if (existsSync(join(candidate, 'package.json'))) return candidate;
    if (dirname(dir) === dir) throw new Error(`${name} is not installed for ${fromDir}`);
  }
}

/** Every package a package needs at run time, itself excluded, as installed. */
function runtimeClosure(dir: string, seen = new Map<string, string>()): Map<string, string> {
  for (const name of Object.keys(manifestOf(dir).dependencies ?? {})) {
    const depDir = resolvePackageDir(name, dir);
    if (seen.has(depDir)) continue;
    seen.set(depDir, name);
    runtimeClosure(depDir, seen);
  }
  return seen;
}

/** The lowest Node version a range admits, for ranges made of lower bounds and carets (all that occur here). */
function lowestNode(range: string): number[] {
  const versions = [...range.matchAll(/(?:>=|\^|~|\s|^)\s*v?(\d+)(?:\.(\d+))?(?:\.(\d+))?/g)].map((match) => [
    Number(match[1]),
    Number(match[2] ?? 0),
    Number(match[3] ?? 0),
  ]);
  if (versions.length === 0) throw new Error(`cannot read the engines range "${range}"`);
  return versions.sort(compareVersions)[0]!;
}

function compareVersions(a: number[], b: number[]): number {
  for (let i = 0; i < 3; i++) if (a[i] !== b[i]) return a[i]! - b[i]!;
  return 0;
}

function npmEnv(): NodeJS.ProcessEnv {
  return {
    ...process.env,
    npm_config_audit: 'false',
    npm_config_fund: 'false',
    npm_config_update_notifier: 'false',
    npm_config_loglevel: 'error',
  };
}

const CONSUMER_SOURCE = `
import { readFileSync } from 'node:fs';
import { AuthError, type SharedSecretHeaders, signSharedSecretHeaders, type TlsOptions } from '@nerves-hub-link/auth';
import {
  type Config,
  ConfigError,
  createLogger,
  Daemon,
  type DaemonExit,
  type DaemonLogger,
  type LoadedConfig,
  loadConfig,
  parseConfig,
  prepareDevice,
  VERSION,
} from '@nerves-hub-link/daemon';
import { downloadFirmware, FirmwareError } from '@nerves-hub-link/firmware';
import { decode, encode, type Message, Socket, type SocketOptions } from '@nerves-hub-link/phoenix-channel';
import { encodeFrame } from '@nerves-hub-link/phoenix-channel/codec';
import { startTestServer, type TestServer } from '@nerves-hub-link/test-server';

/** How a program embeds the daemon; compiled, not called. */
async function embed(file: string): Promise<DaemonExit> {
  const logger: DaemonLogger = createLogger({ format: 'json', level: 'warn' });
  const loaded: LoadedConfig = loadConfig(file);
  const config: Config = loaded.config;
  const daemon = new Daemon(config, await prepareDevice(config, logger), logger);
  return daemon.run();
}

async function serve(): Promise<TestServer> {
  return startTestServer();
}

const socketOptions: SocketOptions = { params: { product: 'consumer' }, heartbeatIntervalMs: 30_000 };
const tls: Pick<TlsOptions, 'minVersion'> | undefined = undefined;
const message: Message = { joinRef: '1', ref: '2', topic: 'device', event: 'phx_join', payload: { a: 1 } };
const headers: SharedSecretHeaders = signSharedSecretHeaders({ key: 'nhp_consumer', secret: 'not-a-real-secret', identifier: 'device-1' });
const example = readFileSync('node_modules/@nerves-hub-link/daemon/examples/config.toml', 'utf8');
const parsed = parseConfig(example, '/etc/nerves-hub-link/config.toml');

process.stdout.write(
  JSON.stringify({
    roundTrip: decode(encode(message)),
    frame: typeof encodeFrame,
    headerNames: Object.keys(headers).sort(),
    exampleUri: parsed.config.uri,
    version: VERSION,
    classes: [AuthError, ConfigError, Daemon, FirmwareError, Socket].map((value) => typeof value),
    functions: [embed, serve, downloadFirmware].map((value) => typeof value),
    socketParams: socketOptions.params,
    tls: tls ?? null,
  }),
);
`;

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'nhl-pack-install-'));
  const tarballs = join(work, 'tarballs');
  await mkdir(tarballs);
  for (const dir of packageDirs) packed.push(await pack(dir, tarballs));

  consumer = join(work, 'consumer');
  await mkdir(consumer);
  const manifest = {
    name: 'nerves-hub-link-consumer',
    private: true,
    type: 'module',
    dependencies: Object.fromEntries(packed.map((p) => [p.name, `file:${p.tarball}`])),
    devDependencies: { '@types/node': TYPES_NODE_VERSION },
  };
  await writeFile(join(consumer, 'package.json'), `${JSON.stringify(manifest, null, 2)}\n`);
  await run('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund'], {
    cwd: consumer,
    env: npmEnv(),
    timeout: 150_000,
  });
}, 180_000);

afterAll(async () => {
  if (work) await rm(work, { recursive: true, force: true });
});

describe('pnpm pack', () => {
  it('packs every workspace package that is not private', () => {
    expect(packed.map((p) => p.name).sort()).toEqual(packageDirs.map((dir) => manifestOf(dir).name).sort());
    expect(packed.length).toBeGreaterThanOrEqual(5);
  });

  it("holds the package's own files only: no tests, no single-executable build, nothing large", () => {
    for (const { name, files, bytes } of packed) {
      const strays = files.filter(
        (file) =>
          !SHIPPED_ROOTS.has(file.split('/')[0]!) ||
          file.startsWith('dist/sea/') ||
          /\.test\.[cm]?[jt]s$/.test(file) ||
          file.includes('node_modules/'),
      );
      expect(strays, name).toEqual([]);
      expect(bytes, name).toBeLessThan(MAX_TARBALL_BYTES);
    }
  });

  it('ships every compiled file together with the source it was compiled from', () => {
    for (const { name, files } of packed) {
      const shipped = new Set(files);
      const compiled = files.filter((file) => file.startsWith('dist/') && /\.(js|d\.ts)$/.test(file));
      expect(compiled.length, name).toBeGreaterThan(0);
      const orphans = compiled
        .map((file) => `src/${file.slice('dist/'.length).replace(/(\.d\.ts|\.js)$/, '.ts')}`)
        .filter((source) => !shipped.has(source));
      expect(orphans, `${name}: compiled files whose source is not shipped`).toEqual([]);
    }
  });

  it('has source maps that point at files inside the tarball', async () => {
    for (const { name, files } of packed) {
      const shipped = new Set(files);
      const maps = files.filter((file) => file.endsWith('.map'));
      expect(maps.length, name).toBeGreaterThan(0);
      for (const map of maps) {
        const { sources, sourceRoot } = JSON.parse(await readFile(join(installedDir(name), map), 'utf8')) as {
          sources: string[];
          sourceRoot?: string;
        };
        for (const source of sources) {
          const target = posix.normalize(posix.join(posix.dirname(map), sourceRoot ?? '', source));
          expect(shipped.has(target), `${name}: ${map} points at ${target}`).toBe(true);
        }
      }
    }
  });

  // There is one LICENSE, at the root of the repository: pnpm pack puts it into every package that has none.
  it('carries the Apache-2.0 license text of the repository', async () => {
    const license = await readFile(join(WORKSPACE, 'LICENSE'), 'utf8');
    expect(license).toMatch(/^\s*Apache License\s+Version 2\.0, January 2004/);
    for (const { name, files } of packed) {
      expect(files, name).toContain('LICENSE');
      expect(await readFile(join(installedDir(name), 'LICENSE'), 'utf8'), name).toBe(license);
      expect(manifestOf(installedDir(name)).license, name).toBe('Apache-2.0');
    }
  });

  it('replaces workspace: ranges with the versions packed alongside', () => {
    const versions = new Map(packed.map((p) => [p.name, p.version]));
    for (const { name } of packed) {
      for (const [dependency, range] of Object.entries(manifestOf(installedDir(name)).dependencies ?? {})) {
        expect(range, `${name} → ${dependency}`).not.toMatch(/^workspace:/);
        if (versions.has(dependency)) expect(range).toBe(`^${versions.get(dependency)}`);
      }
    }
  });
});

describe('npm install of the tarballs', () => {
  it("declares engines.node no lower than any dependency's, transitive ones included", () => {
    for (const { name } of packed) {
      const own = manifestOf(installedDir(name)).engines?.node;
      expect(own, `${name} declares engines.node`).toBeDefined();
      for (const [depDir, depName] of runtimeClosure(installedDir(name))) {
        const needed = manifestOf(depDir).engines?.node;
        if (needed === undefined) continue;
        expect(
          compareVersions(lowestNode(own!), lowestNode(needed)),
          `${name} (node ${own}) installs ${depName} (node ${needed})`,
        ).toBeGreaterThanOrEqual(0);
      }
    }
  });

  it('compiles a consumer of every public API with strict tsc (skipLibCheck off), and runs it', async () => {
    await writeFile(
      join(consumer, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          target: 'ES2022',
          lib: ['ES2023'],
          module: 'NodeNext',
          moduleResolution: 'NodeNext',
          strict: true,
          skipLibCheck: false,
          noEmitOnError: true,
          outDir: 'out',
        },
        files: ['consumer.ts'],
      }),
    );
    await writeFile(join(consumer, 'consumer.ts'), CONSUMER_SOURCE);
    const compiled = await run(process.execPath, [TSC, '-p', 'tsconfig.json'], { cwd: consumer }).catch(
      (error: { stdout?: string; message: string }) => {
        throw new Error(`tsc failed:\n${error.stdout || error.message}`);
      },
    );
    expect(compiled.stdout).toBe('');

    const { stdout } = await run(process.execPath, ['out/consumer.js'], { cwd: consumer });
    const result = JSON.parse(stdout) as Record<string, unknown>;
    const daemonVersion = packed.find((p) => p.name === '@nerves-hub-link/daemon')!.version;
    expect(result).toMatchObject({
      roundTrip: { joinRef: '1', ref: '2', topic: 'device', event: 'phx_join', payload: { a: 1 } },
      frame: 'function',
      version: daemonVersion,
      classes: ['function', 'function', 'function', 'function', 'function'],
      functions: ['function', 'function', 'function'],
      socketParams: { product: 'consumer' },
    });
    expect(result.exampleUri).toMatch(/^wss:\/\//);
    expect(result.headerNames).toEqual(['x-nh-alg', 'x-nh-key', 'x-nh-signature', 'x-nh-time']);
  }, 60_000);

  it('links the nerves-hub-link bin, which prints the package version', async () => {
    const bin = join(consumer, 'node_modules/.bin/nerves-hub-link');
    const { stdout } = await run(bin, ['--version'], { cwd: consumer });
    const daemon = packed.find((p) => p.name === '@nerves-hub-link/daemon')!;
    expect(stdout).toBe(`${daemon.version}\n`);
  });
});
