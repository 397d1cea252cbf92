// Builds the single executable (Node SEA) of the daemon for one architecture:
// dist/sea/nerves-hub-link-linux-<arch>, with --arch x64 or --arch arm64 (default: this machine's).
//
// It is the official Node binary of that architecture (npm's node-linux-<arch>, version and integrity pinned in
// node-binaries.json), stripped, with the CommonJS bundle injected by postject. The blob's format depends on the
// Node version, not on the architecture, as long as it holds no code cache and no snapshot (this one holds
// neither): it is written by this machine's node when that is the pinned version, otherwise by the pinned binary
// of this machine's architecture.
//
// dist/sea/nerves-hub-link-linux-<arch>.json records what the executable was made of; when the bundle, the Node
// pin, the strip tool and this script are the same, the executable is up to date and left as it is.
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  chmodSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { setTimeout } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { build } from 'esbuild';
import { sharedOptions } from './bundle-options.mjs';
import { NODE_ARCHES, NODE_VERSION, officialNode, pinnedIntegrity } from './official-node.mjs';

/** The fuse postject flips so that Node looks for the blob (Node's own name for it). */
const SEA_FUSE = 'NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2';
/** binutils that can strip each architecture: the cross tool, or the native one on that machine. */
const STRIP = {
  x64: ['x86_64-linux-gnu-strip', ...(process.arch === 'x64' ? ['strip'] : [])],
  arm64: ['aarch64-linux-gnu-strip', ...(process.arch === 'arm64' ? ['strip'] : [])],
};

const { values } = parseArgs({
  args: process.argv.slice(2).filter((arg) => arg !== '--'),
  options: { arch: { type: 'string', default: process.arch } },
});
const arch = values.arch;
if (!NODE_ARCHES.includes(arch)) {
  console.error(`sea: --arch must be one of ${NODE_ARCHES.join(', ')} (got ${arch})`);
  process.exit(64);
}
if (!existsSync(sharedOptions.entryPoints[0])) {
  console.error('sea: dist/main.js is missing: run `pnpm build` first');
  process.exit(1);
}

const out = fileURLToPath(new URL('../dist/sea/', import.meta.url));
const name = `nerves-hub-link-linux-${arch}`;
const executable = join(out, name);
const recordFile = join(out, `${name}.json`);
mkdirSync(out, { recursive: true });
// One build of an architecture at a time: another one waits for it, then finds the executable up to date.
const lock = await takeLock(join(out, `.${name}.lock`));
// Everything is made in a folder of this build and moved into place at the end: an interrupted build never
// leaves half an executable.
const work = mkdtempSync(join(out, `.build-${arch}-`));
try {
  // A SEA's main script is CommonJS, and may require only Node's built-in modules: the bundle needs no other.
  // import.meta.url is only used to find package.json, which the version constant replaces.
  const script = join(work, 'nerves-hub-link.cjs');
  await build({
    ...sharedOptions,
    outfile: script,
    format: 'cjs',
    define: { ...sharedOptions.define, 'import.meta.url': '"file:///nerves-hub-link"' },
  });
  const strip = STRIP[arch].find((tool) => spawnSync(tool, ['--version'], { stdio: 'ignore' }).status === 0);
  const record = {
    node: NODE_VERSION,
    nodeIntegrity: pinnedIntegrity(arch),
    bundleSha256: createHash('sha256').update(readFileSync(script)).digest('hex'),
    strip: strip ? `${strip} --remove-section=.comment` : null,
    // How it is made: this script and postject.
    builder: createHash('sha256')
      .update(readFileSync(fileURLToPath(import.meta.url)))
      .update(createRequire(import.meta.url)('postject/package.json').version)
      .digest('hex'),
  };
  if (existsSync(executable) && existsSync(recordFile) && readFileSync(recordFile, 'utf8') === json(record)) {
    console.log(`dist/sea/${name}: up to date (${size(executable)})`);
  } else {
    await makeExecutable(script, strip);
    writeFileSync(recordFile, json(record));
    console.log(
      `dist/sea/${name}: ${size(executable)} (Node ${NODE_VERSION}, ${strip ? 'stripped' : 'not stripped'})`,
    );
  }
} finally {
  rmSync(work, { recursive: true, force: true });
  rmSync(lock, { force: true });
}

/** Creates `file` holding this pid, waiting while a live process holds it; a dead holder's lock is taken over. */
async function takeLock(file) {
  for (;;) {
    try {
      writeFileSync(file, String(process.pid), { flag: 'wx' });
      return file;
    } catch (error) {
      if (error.code !== 'EEXIST') throw error;
    }
    let holder;
    try {
      holder = Number(readFileSync(file, 'utf8'));
    } catch {
      continue; // Released in between.
    }
    try {
      process.kill(holder, 0);
      await setTimeout(250);
    } catch {
      // No such process: a build that was killed left it.
      rmSync(file, { force: true });
    }
  }
}

/** Blob, official binary, strip, inject: the executable, moved into place when whole. */
async function makeExecutable(script, strip) {
  const blob = join(work, 'sea-prep.blob');
  const seaConfig = join(work, 'sea-config.json');
  writeFileSync(
    seaConfig,
    json({
      main: script,
      output: blob,
      disableExperimentalSEAWarning: true,
      useSnapshot: false,
      useCodeCache: false,
    }),
  );
  const blobNode = process.version === `v${NODE_VERSION}` ? process.execPath : officialNode(process.arch);
  execFileSync(blobNode, ['--experimental-sea-config', seaConfig], {
    stdio: ['ignore', 'ignore', 'inherit'],
  });

  const binary = join(work, name);
  copyFileSync(officialNode(arch), binary);
  chmodSync(binary, 0o755);
  // Strip before injecting: stripping afterwards would drop the injected blob. .comment only names compilers.
  if (strip) execFileSync(strip, ['--remove-section=.comment', binary]);
  else console.warn(`sea: no ${STRIP[arch].join(' or ')} (binutils): the executable keeps its symbols`);
  // postject's ELF library warns about note sections it does not name; the injection is checked by running it.
  const { inject } = createRequire(import.meta.url)('postject');
  await inject(binary, 'NODE_SEA_BLOB', readFileSync(blob), { sentinelFuse: SEA_FUSE });

  renameSync(binary, executable);
}

function json(value) {
  return `${JSON.stringify(value, null, 2)}\n`;
}

function size(file) {
  return `${(statSync(file).size / 1024 / 1024).toFixed(1)} MiB`;
}
