// Builds the Debian package of the daemon for one architecture:
// dist/deb/nerves-hub-link_<version>_<arch>.deb, with --arch amd64 or --arch arm64 (default: this machine's).
//
// Made with dpkg-deb from the single executable of that architecture (scripts/sea.mjs, run first): the executable
// as /usr/bin/nerves-hub-link, the systemd unit, the system user (sysusers.d) and its data_dir (tmpfiles.d), a
// polkit rule for the reboot, the example config as a conffile, and the maintainer scripts of scripts/deb/.
// Nothing is enabled or started by the package: the config has to be edited first (scripts/deb/README.Debian).
//
// Maintainer: DEBFULLNAME and DEBEMAIL (as Debian's own tools read them), else the author of the checkout's last
// commit. Dates (changelog, file times): SOURCE_DATE_EPOCH, else the last commit's time, so that a rebuild of the
// same commit is the same package.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  chmodSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { basename, dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { gzipSync } from 'node:zlib';
import { debianChangelog } from './deb/changelog.mjs';
import { debianCopyright } from './deb/copyright.mjs';
import { sharedLibraryDepends } from './deb/depends.mjs';
import { manPage } from './deb/manpage.mjs';
import { wrap } from './deb/text.mjs';
import { NODE_VERSION, officialNodeLicense } from './official-node.mjs';

const NAME = 'nerves-hub-link';
/** Debian architecture → Node's, for the executable. */
const NODE_ARCH = { amd64: 'x64', arm64: 'arm64' };
/**
 * What the maintainer scripts run: systemd-sysusers and systemd-tmpfiles (systemd, or their standalone
 * packages, provide them). Everything else the executable carries, Node.js included.
 */
const SYSTEM_DEPENDS = [
  'systemd | systemd-standalone-sysusers | systemd-sysusers',
  'systemd | systemd-standalone-tmpfiles | systemd-tmpfiles',
];
/**
 * fwup applies the firmware: not in Debian, from its GitHub releases (.deb files) or built from source.
 * fw_printenv (libubootenv-tool) reads the firmware metadata by default. polkitd lets the daemon's user reboot.
 */
const RECOMMENDS = ['fwup', 'libubootenv-tool', 'polkitd'];

const daemonDir = fileURLToPath(new URL('../', import.meta.url));
const root = join(daemonDir, '../..');
const pkg = JSON.parse(readFileSync(join(daemonDir, 'package.json'), 'utf8'));

const hostArch = Object.keys(NODE_ARCH).find((arch) => NODE_ARCH[arch] === process.arch);
const { values } = parseArgs({
  args: process.argv.slice(2).filter((arg) => arg !== '--'),
  // --fast: xz -1 instead of -6 (24 rather than 21 MiB, a sixth of the time); the packaging tests use it.
  options: { arch: { type: 'string', default: hostArch }, fast: { type: 'boolean', default: false } },
});
const compression = ['-Zxz', values.fast ? '-z1' : '-z6'];
const arch = values.arch;
if (!NODE_ARCH[arch]) {
  console.error(`deb: --arch must be one of ${Object.keys(NODE_ARCH).join(', ')} (got ${arch})`);
  process.exit(64);
}

execFileSync(process.execPath, [join(daemonDir, 'scripts/sea.mjs'), '--arch', NODE_ARCH[arch]], {
  stdio: ['ignore', 'inherit', 'inherit'],
});
const executable = join(daemonDir, `dist/sea/nerves-hub-link-linux-${NODE_ARCH[arch]}`);

const git = (...args) =>
  execFileSync('git', args, { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
function maintainer() {
  const { DEBFULLNAME, DEBEMAIL } = process.env;
  if (DEBFULLNAME && DEBEMAIL) return `${DEBFULLNAME} <${DEBEMAIL}>`;
  try {
    return git('log', '-1', '--format=%an <%ae>');
  } catch {
    throw new Error('deb: set DEBFULLNAME and DEBEMAIL (no git checkout to take the maintainer from)');
  }
}
function sourceDateEpoch() {
  if (process.env.SOURCE_DATE_EPOCH) return Number(process.env.SOURCE_DATE_EPOCH);
  try {
    return Number(git('log', '-1', '--format=%ct'));
  } catch {
    return Math.floor(Date.now() / 1000);
  }
}
const epoch = sourceDateEpoch();

const outDir = join(daemonDir, 'dist/deb');
mkdirSync(outDir, { recursive: true });
const output = join(outDir, `${NAME}_${pkg.version}_${arch}.deb`);
const stage = mkdtempSync(join(outDir, `.stage-${arch}-`));
// The archive's ./ gets the stage's mode: a root directory's, not a private temporary folder's.
chmodSync(stage, 0o755);
try {
  const put = (path, content, mode = 0o644) => {
    const file = join(stage, path);
    mkdirSync(dirname(file), { recursive: true });
    if (Buffer.isBuffer(content) || typeof content === 'string') writeFileSync(file, content);
    else copyFileSync(content.from, file);
    chmodSync(file, mode);
  };
  const here = (path) => ({ from: join(daemonDir, path) });
  const doc = `usr/share/doc/${NAME}`;

  put('usr/bin/nerves-hub-link', { from: executable }, 0o755);
  put('usr/lib/systemd/system/nerves-hub-link.service', here('systemd/nerves-hub-link.service'));
  put('usr/lib/sysusers.d/nerves-hub-link.conf', here('systemd/nerves-hub-link.sysusers'));
  put('usr/lib/tmpfiles.d/nerves-hub-link.conf', here('systemd/nerves-hub-link.tmpfiles'));
  put('usr/share/polkit-1/rules.d/nerves-hub-link.rules', here('systemd/nerves-hub-link.rules'));
  put('etc/nerves-hub-link/config.toml', here('examples/config.toml'));
  put(`${doc}/README.Debian`, here('scripts/deb/README.Debian'));
  put(
    `${doc}/copyright`,
    debianCopyright({
      manifest: JSON.parse(readFileSync(join(daemonDir, 'dist/bundle-manifest.json'), 'utf8')),
      daemonDir,
      nodeVersion: NODE_VERSION,
      nodeLicense: readFileSync(officialNodeLicense(NODE_ARCH[arch]), 'utf8'),
      legal: readFileSync(join(daemonDir, 'dist/nerves-hub-link.mjs.LEGAL.txt'), 'utf8'),
    }),
  );
  const changelog = debianChangelog({
    root,
    name: NAME,
    version: pkg.version,
    maintainer: maintainer(),
    date: new Date(epoch * 1000),
  });
  put(`${doc}/changelog.gz`, gzipSync(changelog, { level: 9 }));
  put(`usr/share/lintian/overrides/${NAME}`, here('scripts/deb/lintian-overrides'));
  const help = execFileSync(process.execPath, [join(daemonDir, 'dist/nerves-hub-link.mjs'), '--help'], {
    encoding: 'utf8',
  });
  put(
    `usr/share/man/man1/${NAME}.1.gz`,
    gzipSync(manPage({ version: pkg.version, date: new Date(epoch * 1000), help }), { level: 9 }),
  );

  const files = listFiles(stage);
  const installedKiB = files.reduce(
    (sum, file) => sum + Math.ceil(statSync(join(stage, file)).size / 1024),
    0,
  );
  for (const script of ['postinst', 'prerm', 'postrm'])
    put(`DEBIAN/${script}`, here(`scripts/deb/${script}`), 0o755);
  put('DEBIAN/conffiles', '/etc/nerves-hub-link/config.toml\n');
  put(
    'DEBIAN/md5sums',
    files
      .map(
        (file) =>
          `${createHash('md5')
            .update(readFileSync(join(stage, file)))
            .digest('hex')}  ${file}\n`,
      )
      .join(''),
  );
  put(
    'DEBIAN/control',
    control({
      Package: NAME,
      Version: pkg.version,
      Architecture: arch,
      Maintainer: maintainer(),
      'Installed-Size': String(installedKiB),
      Depends: [...sharedLibraryDepends(executable), ...SYSTEM_DEPENDS].join(', '),
      Recommends: RECOMMENDS.join(', '),
      Section: 'admin',
      Priority: 'optional',
      Description: [
        'NervesHub device client: firmware updates over the air',
        ...wrap(
          'nerves-hub-link keeps a connection to a NervesHub server (mTLS or shared secret), reports the running firmware, and applies the updates NervesHub offers with fwup, reporting every step, then reboots.',
          79,
          ' ',
        ),
        ' .',
        ...wrap(
          `A single executable with Node.js ${NODE_VERSION} inside: the nodejs package is not needed. fwup is not in Debian: install the .deb of its releases (https://github.com/fwup-home/fwup/releases) or build it from source. The service is not enabled by the package: edit /etc/nerves-hub-link/config.toml, run "nerves-hub-link check", then "systemctl enable --now nerves-hub-link".`,
          79,
          ' ',
        ),
      ].join('\n'),
    }),
  );

  // The package is made again only when what goes in (contents, modes, control files) or its compression changed.
  const digest = createHash('sha256').update(compression.join(' '));
  for (const file of listFiles(stage, true)) {
    const path = join(stage, file);
    digest.update(`${file} ${statSync(path).mode}\n`).update(readFileSync(path));
  }
  const record = `${digest.digest('hex')}\n`;
  const recordFile = `${output}.sha256`;
  if (existsSync(output) && existsSync(recordFile) && readFileSync(recordFile, 'utf8') === record) {
    console.log(`dist/deb/${basename(output)}: up to date`);
  } else {
    const building = `${output}.${process.pid}`;
    execFileSync('dpkg-deb', ['--root-owner-group', ...compression, '--build', stage, building], {
      stdio: ['ignore', 'ignore', 'inherit'],
      env: { ...process.env, SOURCE_DATE_EPOCH: String(epoch) },
    });
    renameSync(building, output);
    writeFileSync(recordFile, record);
  }
} finally {
  rmSync(stage, { recursive: true, force: true });
}
console.log(`dist/deb/${basename(output)}: ${(statSync(output).size / 1024 / 1024).toFixed(1)} MiB`);

/** The staged files, as paths inside the package; DEBIAN/ too when `control`. */
function listFiles(dir, control = false) {
  const found = [];
  const walk = (path) => {
    for (const entry of readdirSync(path, { withFileTypes: true })) {
      const full = join(path, entry.name);
      if (entry.isDirectory()) walk(full);
      else found.push(relative(dir, full));
    }
  };
  walk(dir);
  return found.filter((file) => control || !file.startsWith('DEBIAN/')).sort();
}

function control(fields) {
  return `${Object.entries(fields)
    .map(([key, value]) => `${key}: ${value}`)
    .join('\n')}\n`;
}
