// The benchmarks time their runs with standard tools; a machine without them gets the package to install, not a
// spawn error halfway through.
import { spawnSync } from 'node:child_process';

const PACKAGES = {
  '/usr/bin/time': 'time',
  taskset: 'util-linux',
  curl: 'curl',
  openssl: 'openssl',
  sha256sum: 'coreutils',
};

/** Exits with a message naming the Debian packages to install when one of `tools` cannot be run. */
export function requireTools(tools) {
  const missing = tools.filter((tool) => spawnSync(tool, ['--version'], { stdio: 'ignore' }).error);
  if (missing.length === 0) return;
  const packages = [...new Set(missing.map((tool) => PACKAGES[tool] ?? tool))].join(' ');
  console.error(`this benchmark needs ${missing.join(', ')}: apt-get install ${packages}`);
  process.exit(1);
}
