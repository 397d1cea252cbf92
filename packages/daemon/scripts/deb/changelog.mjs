// The Debian changelog of the package, from the changesets (.changeset/*.md at the root) of the packages inside
// the executable: one entry for this version, one item per changeset, oldest first.
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { wrap } from './text.mjs';

/** The workspace packages bundled into the executable (test-server is not). */
const SHIPPED = [
  '@nerves-hub-link/daemon',
  '@nerves-hub-link/auth',
  '@nerves-hub-link/firmware',
  '@nerves-hub-link/phoenix-channel',
];
const WIDTH = 80;

/** `{ packages, text }` of one changeset file: the packages its frontmatter names and its description. */
export function parseChangeset(source) {
  const match = /^---\n([\s\S]*?)\n---\n([\s\S]*)$/.exec(source.replace(/\r\n/g, '\n'));
  if (!match) return undefined;
  const packages = [...match[1].matchAll(/^\s*["']?([^"':\s]+)["']?\s*:/gm)].map((entry) => entry[1]);
  return { packages, text: match[2].trim().replace(/\s+/g, ' ') };
}

/** Changeset files, oldest first (the commit that added each), then by name. */
function changesetFiles(root) {
  const dir = join(root, '.changeset');
  const added = new Map();
  try {
    const log = execFileSync(
      'git',
      ['log', '--diff-filter=A', '--format=%ct', '--name-only', '--', '.changeset'],
      {
        cwd: root,
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'ignore'],
      },
    );
    let time = 0;
    for (const line of log.split('\n')) {
      if (/^\d+$/.test(line)) time = Number(line);
      else if (line.startsWith('.changeset/')) added.set(line.slice('.changeset/'.length), time);
    }
  } catch {
    // Not a git checkout: by name only.
  }
  const files = readdirSync(dir).filter((name) => name.endsWith('.md') && name !== 'README.md');
  const when = (name) => added.get(name) ?? Number.MAX_SAFE_INTEGER;
  return files.sort((a, b) => when(a) - when(b) || a.localeCompare(b)).map((name) => join(dir, name));
}

/**
 * debian/changelog text: `name (version) unstable; urgency=medium`, the items, the trailer line with the
 * maintainer and `date` (RFC 5322, UTC).
 */
export function debianChangelog({ root, name, version, maintainer, date }) {
  const items = [];
  for (const file of changesetFiles(root)) {
    const changeset = parseChangeset(readFileSync(file, 'utf8'));
    const shipped = changeset?.packages.filter((pkg) => SHIPPED.includes(pkg)) ?? [];
    if (shipped.length === 0 || !changeset.text) continue;
    const scope = shipped.map((pkg) => pkg.replace('@nerves-hub-link/', '')).join(', ');
    items.push(...wrap(`${scope}: ${changeset.text}`, WIDTH, '  * ', '    '));
  }
  if (items.length === 0) items.push('  * No recorded changes.');
  const stamp = date.toUTCString().replace('GMT', '+0000');
  return `${name} (${version}) unstable; urgency=medium\n\n${items.join('\n')}\n\n -- ${maintainer}  ${stamp}\n`;
}
