// The Debian packages (dist/deb/nerves-hub-link_<version>_<arch>.deb, built by scripts/deb.mjs): what dpkg-deb
// says is in them, what lintian says of them, and the amd64 one through a whole life in a throwaway root made by
// dpkg itself: install, `--version`, `check` on the config as installed (refused: not configured yet) and as an
// operator edits it (joins the test-server, run as the package's user), remove, purge. The arm64 one is installed
// the same way and its executable runs under qemu-user.
//
// dpkg --root installs into the folder; --force-script-chrootless runs the maintainer scripts on this machine
// with DPKG_ROOT set, as Debian's scripts are written for (systemd-sysusers, systemd-tmpfiles and
// deb-systemd-helper all take it), instead of inside a chroot that would need a whole system.
// --force-depends: the throwaway root's package database is empty; the libraries come from this machine.
import { execFile, spawnSync } from 'node:child_process';
import {
  chmodSync,
  chownSync,
  copyFileSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { promisify } from 'node:util';
import { fakeFwupPath } from '@nerves-hub-link/test-server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDevice, RUNNING_UUID, useTestServer } from '../support/harness.js';
import {
  buildPackage,
  cannotRun,
  commandFor,
  DAEMON_DIR,
  type DebianArch,
  runToEnd,
  VERSION,
} from './support/artifacts.js';

const run = promisify(execFile);
const e2e = useTestServer('daemon-deb-', []);

const ARCHES = ['amd64', 'arm64'] as const satisfies readonly DebianArch[];
/** Building both packages (and their executables, the first time) and checking them with lintian. */
const BUILD_TIMEOUT_MS = 300_000;

function missingTools(): string | undefined {
  const tools = {
    'dpkg-deb': 'dpkg',
    lintian: 'lintian',
    'systemd-sysusers': 'systemd',
    readelf: 'binutils',
  };
  const missing = Object.entries(tools).filter(
    ([tool]) => spawnSync(tool, ['--version'], { stdio: 'ignore' }).status !== 0,
  );
  if (missing.length > 0) {
    return `no ${missing.map(([tool]) => tool).join(', ')} (apt-get install ${[...new Set(missing.map(([, pkg]) => pkg))].join(' ')})`;
  }
  return process.getuid?.() === 0 ? undefined : 'dpkg --root must run as root to give files their owners';
}
const missing = missingTools();
if (missing) console.warn(`skipping the Debian packages: ${missing}`);

/**
 * The installed daemon runs `check` as its own user, with the test-server's fake fwup from this checkout: every
 * folder above it must let other users through (a clone inside a `mktemp -d` folder, mode 0700, does not).
 */
function closedFolderAbove(path: string): string | undefined {
  for (let folder = dirname(path); ; folder = dirname(folder)) {
    if ((statSync(folder).mode & 0o001) === 0) return folder;
    if (folder === dirname(folder)) return undefined;
  }
}
const closedFolder = closedFolderAbove(fakeFwupPath);
const asItsUser =
  closedFolder === undefined
    ? undefined
    : `${closedFolder} lets no other user through, so the daemon's user cannot run the fake fwup (chmod o+x it)`;
if (asItsUser && !missing) console.warn(`skipping the install test: ${asItsUser}`);

const packages = new Map<DebianArch, string>();
/**
 * lintian takes about half a minute a package, half of it in binaries/spelling, which reads every string of the
 * executable: Node.js's own, whose typos are info tags that nobody here can fix. Both run while the other tests do.
 */
const lintianRuns = new Map<DebianArch, ReturnType<typeof runToEnd>>();

describe.skipIf(missing !== undefined)('the Debian packages', () => {
  beforeAll(async () => {
    // One after the other: each compresses an 85 MB executable; --fast is xz -1 (same contents as a release).
    // Each package's lintian starts as soon as it is built, while the next one builds.
    for (const arch of ARCHES) {
      const deb = await buildPackage(arch, { fast: true });
      packages.set(arch, deb);
      lintianRuns.set(
        arch,
        runToEnd([
          'lintian',
          ['--display-info', '--fail-on', 'error,warning', '-X', 'binaries/spelling', deb],
        ]),
      );
    }
  }, BUILD_TIMEOUT_MS);

  describe.each(ARCHES)('%s', (arch) => {
    it('holds the executable, the unit, the user, the data_dir, the config as a conffile, the docs', async () => {
      const deb = packages.get(arch)!;
      const { stdout: contents } = await run('dpkg-deb', ['--contents', deb]);
      const entries = contents
        .trim()
        .split('\n')
        .map((line) => line.split(/\s+/))
        .filter((fields) => fields[0]!.startsWith('-'))
        .map(([mode, owner, , , , path]) => `${mode} ${owner} ${path!.replace(/^\.\//, '/')}`);
      expect(entries).toEqual([
        '-rw-r--r-- root/root /etc/nerves-hub-link/config.toml',
        '-rwxr-xr-x root/root /usr/bin/nerves-hub-link',
        '-rw-r--r-- root/root /usr/lib/systemd/system/nerves-hub-link.service',
        '-rw-r--r-- root/root /usr/lib/sysusers.d/nerves-hub-link.conf',
        '-rw-r--r-- root/root /usr/lib/tmpfiles.d/nerves-hub-link.conf',
        '-rw-r--r-- root/root /usr/share/doc/nerves-hub-link/README.Debian',
        '-rw-r--r-- root/root /usr/share/doc/nerves-hub-link/changelog.gz',
        '-rw-r--r-- root/root /usr/share/doc/nerves-hub-link/copyright',
        '-rw-r--r-- root/root /usr/share/lintian/overrides/nerves-hub-link',
        '-rw-r--r-- root/root /usr/share/man/man1/nerves-hub-link.1.gz',
        '-rw-r--r-- root/root /usr/share/polkit-1/rules.d/nerves-hub-link.rules',
      ]);

      const { stdout: info } = await run('dpkg-deb', ['--info', deb]);
      expect(info).toMatch(/^ Package: nerves-hub-link$/m);
      expect(info).toMatch(new RegExp(`^ Version: ${VERSION.replace(/\./g, '\\.')}$`, 'm'));
      expect(info).toMatch(new RegExp(`^ Architecture: ${arch}$`, 'm'));
      const depends = /^ Depends: (.*)$/m.exec(info)?.[1] ?? '';
      // What the executable links, and what the maintainer scripts run; Node.js is inside.
      expect(depends.split(', ')).toEqual([
        'libc6 (>= 2.28)',
        expect.stringMatching(/^libgcc-s1 \(>= [\d.]+\)$/),
        'libstdc++6 (>= 5)',
        'systemd | systemd-standalone-sysusers | systemd-sysusers',
        'systemd | systemd-standalone-tmpfiles | systemd-tmpfiles',
      ]);
      expect(depends).not.toMatch(/node/);
      expect(/^ Recommends: (.*)$/m.exec(info)?.[1]).toBe('fwup, libubootenv-tool, polkitd');
      // fwup is not in Debian: the description says where it comes from.
      expect(info).toContain('https://github.com/fwup-home/fwup/releases');
      for (const script of ['postinst', 'prerm', 'postrm'])
        expect(info).toMatch(new RegExp(`\\* +${script} +#!/bin/sh`));

      const { stdout: conffiles } = await run('sh', [
        '-c',
        `dpkg-deb --ctrl-tarfile '${deb}' | tar -xO ./conffiles`,
      ]);
      expect(conffiles).toBe('/etc/nerves-hub-link/config.toml\n');
    });
  });

  it('explains every lintian override it keeps', () => {
    const lines = readFileSync(join(DAEMON_DIR, 'scripts/deb/lintian-overrides'), 'utf8')
      .trimEnd()
      .split('\n');
    lines.forEach((line, index) => {
      if (!line.startsWith('#'))
        expect(lines[index - 1], `${line} has no reason above it`).toMatch(/^(#|nerves-hub-link: )/);
    });
    expect(lines[0]).toMatch(/^# /);
  });

  describe('installed into a throwaway root with dpkg', () => {
    let root: string;
    const dpkg = (...args: string[]) =>
      runToEnd([
        'dpkg',
        [
          `--root=${root}`,
          '--force-script-chrootless',
          '--force-depends',
          `--log=${join(root, 'dpkg.log')}`,
          ...args,
        ],
      ]);
    const inRoot = (path: string) => join(root, path);

    beforeAll(() => {
      root = mkdtempSync(join(tmpdir(), 'daemon-deb-root-'));
      // The daemon's user must reach the files inside it, as in /.
      chmodSync(root, 0o755);
      for (const dir of ['var/lib/dpkg/info', 'var/lib/dpkg/updates', 'var/lib/dpkg/triggers', 'etc']) {
        mkdirSync(inRoot(dir), { recursive: true });
      }
      writeFileSync(inRoot('var/lib/dpkg/status'), '');
    });
    afterAll(() => rmSync(root, { recursive: true, force: true }));

    it.skipIf(asItsUser !== undefined)(
      'amd64: installs, refuses to check the config as shipped, checks the edited one as its user, is removed and purged',
      async () => {
        const install = await dpkg('--install', packages.get('amd64')!);
        expect(install.code, install.output).toBe(0);

        // The system user and its data_dir.
        const user = readFileSync(inRoot('etc/passwd'), 'utf8')
          .split('\n')
          .map((line) => line.split(':'))
          .find((fields) => fields[0] === 'nerves-hub-link');
        expect(user?.[6]).toBe('/usr/sbin/nologin');
        const [uid, gid] = [Number(user![2]), Number(user![3])];
        const dataDir = statSync(inRoot('var/lib/nerves-hub-link'));
        expect({ uid: dataDir.uid, gid: dataDir.gid, mode: dataDir.mode & 0o777 }).toEqual({
          uid,
          gid,
          mode: 0o700,
        });
        expect(readFileSync(inRoot('usr/lib/systemd/system/nerves-hub-link.service'), 'utf8')).toBe(
          readFileSync(join(DAEMON_DIR, 'systemd/nerves-hub-link.service'), 'utf8'),
        );

        const executable = inRoot('usr/bin/nerves-hub-link');
        const config = inRoot('etc/nerves-hub-link/config.toml');
        expect(await runToEnd([executable, ['--version']])).toEqual({ code: 0, output: `${VERSION}\n` });
        // As installed, the config names no device yet: check says so (exit 78) and what to fix.
        const unconfigured = await runToEnd([executable, ['check', '--config', config]], { uid, gid });
        expect(unconfigured.code, unconfigured.output).toBe(78);
        expect(unconfigured.output).toMatch(/auth\.cert_file/);

        // What an operator does: the device's files into /etc/nerves-hub-link, readable by the daemon's group; one
        // file edited; check as the daemon's user.
        const device = await createDevice(e2e.server, e2e.root, 'deb-device');
        const text = readFileSync(device.configFile, 'utf8');
        const paths = {
          cert_file: 'device-cert.pem',
          key_file: 'device-key.pem',
          ca_file: 'ca.pem',
          file: 'firmware.env',
        } as const;
        let edited = text.replace(/^data_dir = .*$/m, `data_dir = "${inRoot('var/lib/nerves-hub-link')}"`);
        for (const [key, name] of Object.entries(paths)) {
          const from = new RegExp(`^${key} = "([^"]+)"$`, 'm').exec(text)![1]!;
          const to = inRoot(`etc/nerves-hub-link/${name}`);
          copyFileSync(from, to);
          chownSync(to, 0, gid);
          chmodSync(to, 0o640);
          edited = edited.replace(from, to);
        }
        writeFileSync(config, edited);
        const checked = await runToEnd([executable, ['check', '--config', config]], { uid, gid });
        expect(checked.code, checked.output).toBe(0);
        expect(checked.output).toContain('ok   joined "device"');
        expect(e2e.server.records('deb-device')?.firmware?.uuid).toBe(RUNNING_UUID);

        const remove = await dpkg('--remove', 'nerves-hub-link');
        expect(remove.code, remove.output).toBe(0);
        // Removed: the program is gone, the edited config stays (a conffile), with the operator's files.
        expect(leftovers(root)).toEqual(
          [
            ...ACCOUNTS,
            'etc/nerves-hub-link/config.toml',
            ...OPERATOR_FILES,
            'var/lib/nerves-hub-link/',
            ...DSH_STATE,
          ].sort(),
        );
        const purge = await dpkg('--purge', 'nerves-hub-link');
        expect(purge.code, purge.output).toBe(0);
        // Purged: what stays is what Debian keeps, the system user (files may still be its) and the files the
        // operator put in /etc/nerves-hub-link, and the empty state folder of deb-systemd-helper (systemd's on a
        // device).
        expect(leftovers(root)).toEqual([...ACCOUNTS, ...OPERATOR_FILES, 'var/lib/systemd/'].sort());
        const known = await runToEnd([
          'dpkg-query',
          [`--admindir=${inRoot('var/lib/dpkg')}`, '--status', 'nerves-hub-link'],
        ]);
        expect(known.output).not.toMatch(/^Status: install ok/m);
      },
      60_000,
    );

    it.skipIf(cannotRun('arm64') !== undefined)(
      "arm64: installs (arm64 added to the root's architectures) and its executable runs (under qemu-user here)",
      async () => {
        const arm64 = mkdtempSync(join(tmpdir(), 'daemon-deb-arm64-'));
        try {
          for (const dir of ['var/lib/dpkg/info', 'var/lib/dpkg/updates', 'var/lib/dpkg/triggers', 'etc']) {
            mkdirSync(join(arm64, dir), { recursive: true });
          }
          writeFileSync(join(arm64, 'var/lib/dpkg/status'), '');
          const args = [
            `--root=${arm64}`,
            '--force-script-chrootless',
            '--force-depends',
            `--log=${join(arm64, 'dpkg.log')}`,
          ];
          if (process.arch !== 'arm64') {
            const added = await runToEnd(['dpkg', [...args, '--add-architecture', 'arm64']]);
            expect(added.code, added.output).toBe(0);
          }
          const install = await runToEnd(['dpkg', [...args, '--install', packages.get('arm64')!]]);
          expect(install.code, install.output).toBe(0);
          const version = await runToEnd(
            commandFor('arm64', join(arm64, 'usr/bin/nerves-hub-link'), ['--version']),
          );
          expect(version).toEqual({ code: 0, output: `${VERSION}\n` });
          const purge = await runToEnd(['dpkg', [...args, '--purge', 'nerves-hub-link']]);
          expect(purge.code, purge.output).toBe(0);
          expect(leftovers(arm64).filter((path) => path !== 'var/lib/dpkg/arch')).toEqual(
            [...ACCOUNTS, 'var/lib/systemd/'].sort(),
          );
        } finally {
          rmSync(arm64, { recursive: true, force: true });
        }
      },
      60_000,
    );
  });

  // Last: lintian has been running since the build, while the tests above ran.
  describe.each(ARCHES)('lintian, %s', (arch) => {
    it('passes lintian: no error, no warning but the overrides it explains', async () => {
      const result = await lintianRuns.get(arch)!;
      const tags = result.output.split('\n').filter((line) => /^[EWIPX]: /.test(line));
      console.log(
        `lintian ${arch}:\n${tags.filter((tag) => !tag.includes('spelling-error-in-binary')).join('\n')}`,
      );
      expect(result.code, result.output).toBe(0);
      expect(tags.filter((tag) => /^[EW]: /.test(tag))).toEqual([]);
    }, 120_000);
  });
});

/** systemd-sysusers' files: the user and group it made, and its lock. */
const ACCOUNTS = ['etc/.pwd.lock', 'etc/group', 'etc/gshadow', 'etc/passwd', 'etc/shadow'];
const OPERATOR_FILES = ['ca.pem', 'device-cert.pem', 'device-key.pem', 'firmware.env'].map(
  (name) => `etc/nerves-hub-link/${name}`,
);
/** deb-systemd-helper's record of the unit's enablement links (none made), removed on purge. */
const DSH_STATE = ['var/lib/systemd/deb-systemd-helper-enabled/nerves-hub-link.service.dsh-also'];

/** Files and empty folders in `root` but dpkg's own database and log, as paths inside it. */
function leftovers(root: string): string[] {
  const found: string[] = [];
  const walk = (dir: string) => {
    const names = readdirSync(dir);
    if (names.length === 0 && dir !== root) found.push(`${relative(root, dir)}/`);
    for (const name of names) {
      const path = join(dir, name);
      const inside = relative(root, path);
      if (inside === 'var/lib/dpkg' || inside === 'dpkg.log') continue;
      if (statSync(path).isDirectory()) walk(path);
      else found.push(inside);
    }
  };
  walk(root);
  return found.sort();
}
