// Builds a single executable (Node SEA) of the daemon for this machine's architecture: dist/sea/nerves-hub-link.
// Needs the `node` binary it runs with and `npx postject` (fetched from npm on first use). For another
// architecture, run it on (or under emulation of) that architecture with its own node binary.
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { build } from 'esbuild';

const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
const out = new URL('../dist/sea/', import.meta.url).pathname;
mkdirSync(out, { recursive: true });
const script = `${out}nerves-hub-link.cjs`;
const blob = `${out}sea-prep.blob`;
const binary = `${out}nerves-hub-link`;

// A SEA entry must be CommonJS; import.meta.url is only used to find package.json, which `define` replaces.
await build({
  entryPoints: [new URL('../dist/main.js', import.meta.url).pathname],
  outfile: script,
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  minify: true,
  define: {
    NERVES_HUB_LINK_VERSION: JSON.stringify(pkg.version),
    'process.env.WS_NO_BUFFER_UTIL': '"1"',
    'process.env.WS_NO_UTF_8_VALIDATE': '"1"',
    'import.meta.url': '"file:///nerves-hub-link"',
  },
  logLevel: 'warning',
});
writeFileSync(
  `${out}sea-config.json`,
  JSON.stringify({ main: script, output: blob, disableExperimentalSEAWarning: true }),
);
execFileSync(process.execPath, ['--experimental-sea-config', `${out}sea-config.json`], { stdio: 'inherit' });
copyFileSync(process.execPath, binary);
// Strip before injecting: stripping afterwards breaks the binary.
try {
  execFileSync('strip', [binary]);
} catch {
  console.warn('strip not available: the executable keeps its symbols');
}
execFileSync(
  'npx',
  [
    '--yes',
    'postject@1.0.0-alpha.6',
    binary,
    'NODE_SEA_BLOB',
    blob,
    '--sentinel-fuse',
    'NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2',
  ],
  { stdio: 'inherit' },
);
console.log(`${binary}: ${(statSync(binary).size / 1024 / 1024).toFixed(1)} MiB`);
