// /usr/share/doc/nerves-hub-link/copyright in Debian's machine-readable format
// (https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/): the project (Apache-2.0), and what the
// executable also holds: the official Node.js binary (its LICENSE covers Node and everything built into it) and
// the npm packages in the bundle (from dist/bundle-manifest.json), each with its license text.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { wrap } from './text.mjs';

/** A license text as a DEP-5 field continuation: each line indented, blank lines as " .". */
function indent(text) {
  return text
    .replace(/\r\n/g, '\n')
    .trim()
    .split('\n')
    .map((line) => (line.trim() === '' ? ' .' : ` ${line.trimEnd()}`))
    .join('\n');
}

function copyrightLines(text) {
  return text
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => /^copyright\b/i.test(line))
    .map((line) => line.replace(/^copyright\s*(\(c\)|©)?\s*/i, ''));
}

/**
 * The copyright file's text. `manifest` is dist/bundle-manifest.json, `daemonDir` the folder its license paths
 * are relative to, `nodeLicense` the text of Node's LICENSE, `legal` the legal comments esbuild kept
 * (dist/nerves-hub-link.mjs.LEGAL.txt).
 */
export function debianCopyright({ manifest, daemonDir, nodeVersion, nodeLicense, legal }) {
  const packages = manifest.packages.map((pkg) => ({
    ...pkg,
    text: readFileSync(join(daemonDir, pkg.licenseFile), 'utf8'),
  }));
  const byLicense = new Map();
  for (const pkg of packages) {
    if (!byLicense.has(pkg.license)) byLicense.set(pkg.license, []);
    byLicense.get(pkg.license).push(pkg);
  }
  const names = packages.map((pkg) => `${pkg.name} ${pkg.version}`).join(', ');
  const holders = [
    'nerves-hub-link contributors',
    ...packages.flatMap((pkg) => copyrightLines(pkg.text)),
    'Node.js contributors and the holders named in the Node.js license below',
  ];
  const licenses = ['Apache-2.0', ...[...byLicense.keys()].sort(), 'Node.js'];
  const paragraphs = [
    [
      'Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/',
      'Upstream-Name: nerves-hub-link',
      'Comment:',
      ...wrap(
        `usr/bin/nerves-hub-link is a Node.js single executable application: the official build of Node.js ${nodeVersion} with one JavaScript file inside, which holds this project's code and the npm packages ${names}.`,
        79,
        ' ',
      ),
    ].join('\n'),
    ['Files: *', 'Copyright: nerves-hub-link contributors', 'License: Apache-2.0'].join('\n'),
    [
      'Files: usr/bin/nerves-hub-link',
      `Copyright: ${holders.join('\n           ')}`,
      `License: ${licenses.join(' and ')}`,
      ...(legal.trim() ? ['Comment: Legal comments kept from the bundled sources:', indent(legal)] : []),
    ].join('\n'),
    [
      'License: Apache-2.0',
      ' On Debian systems, the full text of the Apache License, Version 2.0 can be found',
      ' in /usr/share/common-licenses/Apache-2.0.',
    ].join('\n'),
    ...[...byLicense.keys()].sort().map((license) =>
      [
        `License: ${license}`,
        indent(
          byLicense
            .get(license)
            .map((pkg) => `${pkg.name}:\n\n${pkg.text.trim()}`)
            .join('\n\n'),
        ),
      ].join('\n'),
    ),
    ['License: Node.js', indent(nodeLicense)].join('\n'),
  ];
  return `${paragraphs.join('\n\n')}\n`;
}
