// Everything a release ships for devices, from the build (`pnpm build`): both single executables and both Debian
// packages, then their sizes beside the bundle's.
import { execFileSync } from 'node:child_process';
import { readFileSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const daemonDir = fileURLToPath(new URL('../', import.meta.url));
const { version } = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
const script = (name, ...args) =>
  execFileSync(process.execPath, [`${daemonDir}scripts/${name}`, ...args], { stdio: 'inherit' });

for (const arch of ['x64', 'arm64']) script('sea.mjs', '--arch', arch);
for (const arch of ['amd64', 'arm64']) script('deb.mjs', '--arch', arch);

const artifacts = [
  'dist/nerves-hub-link.mjs',
  'dist/sea/nerves-hub-link-linux-x64',
  'dist/sea/nerves-hub-link-linux-arm64',
  `dist/deb/nerves-hub-link_${version}_amd64.deb`,
  `dist/deb/nerves-hub-link_${version}_arm64.deb`,
];
console.log('\nartifacts:');
for (const artifact of artifacts) {
  const bytes = statSync(`${daemonDir}${artifact}`).size;
  const size =
    bytes < 1024 * 1024 ? `${(bytes / 1024).toFixed(0)} KiB` : `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
  console.log(`  ${size.padStart(10)}  packages/daemon/${artifact}`);
}
