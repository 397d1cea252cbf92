// The shared-library part of Depends:, from the executable itself: the libraries it links (readelf -d, NEEDED)
// and the newest symbol version it asks of each (readelf -V), as dpkg-shlibdeps would put it for Debian's
// libc6, libstdc++6 and libgcc-s1. readelf reads ELF files of every architecture, so this works for a cross
// build too. A library outside this table stops the build: it needs a decision, not a guess.
import { execFileSync } from 'node:child_process';

/** NEEDED sonames → the Debian package and the symbol-version prefix that dates it. */
const LIBRARIES = [
  {
    soname: /^(libc|libm|libdl|libpthread|librt)\.so\.\d+$|^ld-linux[-\w.]*\.so\.\d+$/,
    pkg: 'libc6',
    tag: 'GLIBC',
  },
  { soname: /^libstdc\+\+\.so\.6$/, pkg: 'libstdc++6', tag: 'GLIBCXX' },
  { soname: /^libgcc_s\.so\.1$/, pkg: 'libgcc-s1', tag: 'GCC' },
];

/**
 * GLIBCXX_3.4.N → the GCC release that first had it (the libstdc++ manual, "ABI Policy and Guidelines", which
 * lists the symbol version of each release); Debian's libstdc++6 carries GCC's version.
 */
const GLIBCXX_GCC = {
  9: '4.2',
  10: '4.3',
  11: '4.4',
  12: '4.4.1',
  13: '4.4.2',
  14: '4.5',
  15: '4.6',
  16: '4.6.1',
  17: '4.7',
  18: '4.8',
  19: '4.8.3',
  20: '4.9',
  21: '5',
  22: '6',
  23: '7',
  24: '7.2',
  25: '8',
  26: '9',
  27: '9.2',
  28: '9.3',
  29: '11',
  30: '12',
  31: '13',
  32: '13.2',
  33: '14',
};

const compareVersions = (a, b) => {
  const [x, y] = [a.split('.').map(Number), b.split('.').map(Number)];
  for (let i = 0; i < Math.max(x.length, y.length); i++) {
    if ((x[i] ?? 0) !== (y[i] ?? 0)) return (x[i] ?? 0) - (y[i] ?? 0);
  }
  return 0;
};

/** `libc6 (>= 2.28), libgcc-s1 (>= 4.2), libstdc++6 (>= 5)` for `executable`. */
export function sharedLibraryDepends(executable) {
  const dynamic = execFileSync('readelf', ['--dynamic', '--wide', executable], { encoding: 'utf8' });
  const needed = [...dynamic.matchAll(/\(NEEDED\)\s+Shared library: \[([^\]]+)\]/g)].map((match) => match[1]);
  // The version needs (.gnu.version_r) come after a symbol-by-symbol table of several MiB.
  const versions = execFileSync('readelf', ['--version-info', '--wide', executable], {
    encoding: 'utf8',
    maxBuffer: 256 * 1024 * 1024,
  });
  const tags = [...versions.matchAll(/Name: ([A-Z]+)_([\d.]+)/g)].map(([, tag, version]) => ({
    tag,
    version,
  }));

  const packages = new Map();
  for (const soname of needed) {
    const library = LIBRARIES.find((entry) => entry.soname.test(soname));
    if (!library) {
      throw new Error(`${executable} links ${soname}: add its Debian package to scripts/deb/depends.mjs`);
    }
    const newest = tags
      .filter((entry) => entry.tag === library.tag)
      .map((entry) => entry.version)
      .sort(compareVersions)
      .at(-1);
    let minimum = newest;
    if (library.tag === 'GLIBCXX' && newest) {
      minimum = GLIBCXX_GCC[Number(newest.split('.')[2] ?? 0)];
      if (!minimum)
        throw new Error(`${executable} needs GLIBCXX_${newest}: add it to scripts/deb/depends.mjs`);
    }
    const current = packages.get(library.pkg);
    if (current === undefined || (minimum && (!current || compareVersions(minimum, current) > 0))) {
      packages.set(library.pkg, minimum ?? '');
    }
  }
  return [...packages]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([pkg, version]) => (version ? `${pkg} (>= ${version})` : pkg));
}
