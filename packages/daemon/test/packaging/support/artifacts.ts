// The shipped artifacts for the packaging tests: built through the same commands a release uses
// (scripts/sea.mjs, scripts/deb.mjs), which leave an up-to-date artifact as it is, so the suite builds each once
// per change. Foreign executables run under qemu-user with the architecture's libraries from Debian's cross
// packages.
import { type ChildProcess, execFile, spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);

export const DAEMON_DIR = fileURLToPath(new URL('../../../', import.meta.url));
export const VERSION = (
  JSON.parse(readFileSync(join(DAEMON_DIR, 'package.json'), 'utf8')) as { version: string }
).version;

export type NodeArch = 'x64' | 'arm64';
export type DebianArch = 'amd64' | 'arm64';
export const DEBIAN_ARCH: Record<NodeArch, DebianArch> = { x64: 'amd64', arm64: 'arm64' };

/** How to run an executable of another architecture on this machine: qemu-user and the cross libraries. */
const EMULATION: Record<NodeArch, { qemu: string; root: string; packages: string }> = {
  x64: {
    qemu: 'qemu-x86_64-static',
    root: '/usr/x86_64-linux-gnu',
    packages: 'qemu-user-static libc6-amd64-cross libstdc++6-amd64-cross libgcc-s1-amd64-cross',
  },
  arm64: {
    qemu: 'qemu-aarch64-static',
    root: '/usr/aarch64-linux-gnu',
    packages: 'qemu-user-static libc6-arm64-cross libstdc++6-arm64-cross libgcc-s1-arm64-cross',
  },
};
/** What the Node binary links against (readelf -d), looked for in the cross root. */
const CROSS_LIBRARIES = ['libc.so.6', 'libm.so.6', 'libstdc++.so.6', 'libgcc_s.so.1'];

export const isNative = (arch: NodeArch) => arch === process.arch;

/** Why executables of `arch` cannot run here, or undefined when they can (natively or emulated). */
export function cannotRun(arch: NodeArch): string | undefined {
  if (isNative(arch)) return undefined;
  const { qemu, root, packages } = EMULATION[arch];
  const found = spawnSync(qemu, ['--version'], { stdio: 'ignore' }).status === 0;
  const missing = CROSS_LIBRARIES.filter((library) => !existsSync(join(root, 'lib', library)));
  if (!found || missing.length > 0) {
    return `cannot run ${arch} executables here: ${found ? '' : `no ${qemu}; `}${missing.length ? `no ${missing.join(', ')} in ${root}/lib; ` : ''}apt-get install ${packages}`;
  }
  return undefined;
}

/** The command line that runs `executable` of `arch` with `args` on this machine. */
export function commandFor(arch: NodeArch, executable: string, args: readonly string[]): [string, string[]] {
  if (isNative(arch)) return [executable, [...args]];
  const { qemu, root } = EMULATION[arch];
  return [qemu, ['-L', root, executable, ...args]];
}

/** `pnpm --filter @nerves-hub-link/daemon sea -- --arch ARCH`, as a release runs it; the executable's path. */
export async function buildExecutable(arch: NodeArch): Promise<string> {
  await run(process.execPath, [join(DAEMON_DIR, 'scripts/sea.mjs'), '--arch', arch], {
    cwd: DAEMON_DIR,
    maxBuffer: 16 * 1024 * 1024,
  });
  return join(DAEMON_DIR, `dist/sea/nerves-hub-link-linux-${arch}`);
}

/**
 * `pnpm --filter @nerves-hub-link/daemon deb -- --arch ARCH`; the package's path. `fast`: xz -1, the same
 * contents.
 */
export async function buildPackage(arch: DebianArch, { fast = false } = {}): Promise<string> {
  const args = ['--arch', arch, ...(fast ? ['--fast'] : [])];
  await run(process.execPath, [join(DAEMON_DIR, 'scripts/deb.mjs'), ...args], {
    cwd: DAEMON_DIR,
    maxBuffer: 16 * 1024 * 1024,
  });
  return join(DAEMON_DIR, `dist/deb/nerves-hub-link_${VERSION}_${arch}.deb`);
}

export interface RunningProcess {
  readonly child: ChildProcess;
  output(): string;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** Starts `command` with its output collected (stdout and stderr together, as a journal shows them). */
export function start(
  [command, args]: [string, string[]],
  options: { env?: Record<string, string>; uid?: number; gid?: number } = {},
): RunningProcess {
  const child = spawn(command, args, {
    env: { ...process.env, ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
    uid: options.uid,
    gid: options.gid,
  });
  let output = '';
  child.stdout!.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  child.stderr!.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  // 'close': the process has exited and its output is all read.
  const exited = once(child, 'close').then(([code, signal]) => ({
    code: code as number | null,
    signal: signal as NodeJS.Signals | null,
  }));
  return { child, output: () => output, exited };
}

/** Runs `command` to its end: exit code and output. */
export async function runToEnd(
  command: [string, string[]],
  options: { env?: Record<string, string>; uid?: number; gid?: number } = {},
): Promise<{ code: number | null; output: string }> {
  const started = start(command, options);
  const { code } = await started.exited;
  return { code, output: started.output() };
}
