// What the bundle (scripts/bundle.mjs, ESM for `node`) and the single executable (scripts/sea.mjs, CommonJS for
// a Node SEA) have in common: the entry, the build-time constants and the part of undici that goes in.
import { existsSync, readFileSync, realpathSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const daemonDir = fileURLToPath(new URL('../', import.meta.url));
const pkg = JSON.parse(readFileSync(join(daemonDir, 'package.json'), 'utf8'));

/** The undici the firmware package depends on (and pins): the one its code was written and tested against. */
const firmwareRequire = createRequire(
  createRequire(join(daemonDir, 'package.json')).resolve('@nerves-hub-link/firmware/package.json'),
);
export const undiciDir = realpathSync(dirname(firmwareRequire.resolve('undici/package.json')));
export const undiciVersion = JSON.parse(readFileSync(join(undiciDir, 'package.json'), 'utf8')).version;

/**
 * The daemon's `undici`: the dispatchers the firmware download uses (connection-tracker.ts imports Agent, Client,
 * ProxyAgent and buildConnector) and nothing else. undici's index also loads fetch, WebSocket, EventSource, the
 * caches and the mock agent: two thirds of the bundle, parsed at every start for nothing. The index adds the
 * request APIs to Dispatcher.prototype; of those, ProxyAgent needs `connect` (the CONNECT tunnel), so that one is
 * added here the same way.
 */
const undiciDispatchers = `'use strict'
const Dispatcher = require('./lib/dispatcher/dispatcher')
Dispatcher.prototype.connect = require('./lib/api/api-connect')
module.exports.Agent = require('./lib/dispatcher/agent')
module.exports.Client = require('./lib/dispatcher/client')
module.exports.ProxyAgent = require('./lib/dispatcher/proxy-agent')
module.exports.buildConnector = require('./lib/core/connect')
`;

/** Resolves every `undici` import of the bundle to undiciDispatchers, inside the firmware package's undici. */
const undiciPlugin = {
  name: 'undici-dispatchers',
  setup(build) {
    build.onResolve({ filter: /^undici$/ }, () => ({
      path: join(undiciDir, 'nerves-hub-link-dispatchers.js'),
    }));
    build.onLoad({ filter: /nerves-hub-link-dispatchers\.js$/ }, () => ({
      contents: undiciDispatchers,
      loader: 'js',
      resolveDir: undiciDir,
    }));
  },
};

/**
 * undici's HTTP/2 client loads `node:http2` when it is first required, to read a few of its constants: about
 * 10 ms of every start (Node's http2 is a large module) for a protocol the daemon never asks for (undici speaks
 * HTTP/2 only with `allowH2`). Inside undici, `node:http2` becomes those constants, copied from this Node at build
 * time (header names and nghttp2 codes, fixed by the protocol), and a `connect` that loads the real module when
 * called. The build fails if undici starts using anything else of it.
 */
const lazyHttp2Plugin = {
  name: 'undici-lazy-http2',
  setup(build) {
    const clientH2 = readFileSync(join(undiciDir, 'lib/dispatcher/client-h2.js'), 'utf8');
    const names = /const \{\s*constants: \{([^}]*)\}\s*\} = http2/.exec(clientH2)?.[1]?.match(/\w+/g);
    const uses = new Set([...clientH2.matchAll(/\bhttp2\.(\w+)/g)].map((match) => match[1]));
    if (!names || [...uses].some((use) => use !== 'connect')) {
      throw new Error(
        `undici's lib/dispatcher/client-h2.js no longer uses node:http2 as scripts/bundle-options.mjs expects (constants ${names}, members ${[...uses]}): update lazyHttp2Plugin`,
      );
    }
    const http2 = createRequire(import.meta.url)('node:http2');
    const constants = Object.fromEntries(names.map((name) => [name, http2.constants[name]]));
    build.onResolve({ filter: /^node:http2$/ }, (args) =>
      args.importer.startsWith(`${undiciDir}/`)
        ? { path: 'node:http2', namespace: 'undici-lazy-http2' }
        : undefined,
    );
    build.onLoad({ filter: /.*/, namespace: 'undici-lazy-http2' }, () => ({
      contents: `'use strict'
module.exports.constants = ${JSON.stringify(constants)}
module.exports.connect = (...args) => require('node:http2').connect(...args)
`,
      loader: 'js',
    }));
  },
};

/**
 * Two parts of undici the daemon can never reach, left out (about 50 KiB of the bundle): the fetch body machinery
 * that client-h1/client-h2 require only for a FormData request body (the daemon's requests have no body), and the
 * SOCKS agent ProxyAgent requires for `socks5:` proxy URLs (refused before any agent is made: firmware's
 * download/proxy.ts, the daemon's config/values/proxy.ts). Each is replaced by a module that throws if it is ever
 * used, and the build fails if undici stops requiring them the way this expects.
 */
const UNREACHABLE_UNDICI = [
  {
    module: 'lib/web/fetch/body.js',
    requiredBy: ['lib/dispatcher/client-h1.js', 'lib/dispatcher/client-h2.js'],
    request: /require\('\.\.\/web\/fetch\/body\.js'\)\.extractBody/,
    what: 'a FormData request body',
  },
  {
    module: 'lib/dispatcher/socks5-proxy-agent.js',
    requiredBy: ['lib/dispatcher/proxy-agent.js'],
    request: /require\('\.\/socks5-proxy-agent'\)/,
    what: 'a SOCKS proxy',
  },
];

const unreachableUndiciPlugin = {
  name: 'undici-unreachable',
  setup(build) {
    for (const { module, requiredBy, request } of UNREACHABLE_UNDICI) {
      for (const file of requiredBy) {
        if (!request.test(readFileSync(join(undiciDir, file), 'utf8'))) {
          throw new Error(
            `undici's ${file} no longer requires ${module} as scripts/bundle-options.mjs expects: update unreachableUndiciPlugin`,
          );
        }
      }
    }
    build.onLoad({ filter: /\.js$/ }, (args) => {
      if (!args.path.startsWith(`${undiciDir}/`)) return undefined;
      const entry = UNREACHABLE_UNDICI.find(({ module }) => args.path === join(undiciDir, module));
      if (!entry) return undefined;
      const message = `nerves-hub-link's bundle leaves out undici's ${entry.module} (${entry.what})`;
      return {
        contents: `'use strict'
const unreachable = () => { throw new Error(${JSON.stringify(message)}) }
module.exports = function Unreachable () { unreachable() }
module.exports.extractBody = unreachable
`,
        loader: 'js',
      };
    });
  },
};

/** esbuild options shared by both builds; each adds its format, output and banner. */
export const sharedOptions = {
  entryPoints: [join(daemonDir, 'dist/main.js')],
  bundle: true,
  platform: 'node',
  target: 'node20',
  minify: true,
  metafile: true,
  plugins: [undiciPlugin, lazyHttp2Plugin, unreachableUndiciPlugin],
  define: {
    NERVES_HUB_LINK_VERSION: JSON.stringify(pkg.version),
    // ws probes for optional native add-ons; the bundle has none.
    'process.env.WS_NO_BUFFER_UTIL': '"1"',
    'process.env.WS_NO_UTF_8_VALIDATE': '"1"',
  },
  logLevel: 'warning',
};

export const version = pkg.version;

/**
 * What went into a build, for the tests and the Debian package's copyright file: the undici version and files
 * (paths inside the undici package), and every third-party package in it with its license file.
 */
export function bundleManifest(metafile) {
  const inputs = Object.keys(metafile.inputs).map((input) => join(process.cwd(), input));
  const undiciFiles = inputs
    .filter((path) => path.startsWith(`${undiciDir}/`))
    .map((path) => path.slice(undiciDir.length + 1))
    .sort();
  const packageDirs = new Set(
    inputs
      .map((path) => /^(.*\/node_modules\/(?:@[^/]+\/)?[^/]+)\//.exec(path)?.[1])
      .filter((dir) => dir !== undefined),
  );
  const packages = [...packageDirs]
    .map((dir) => {
      const manifest = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
      const licenseFile = ['LICENSE', 'LICENSE.md', 'LICENSE.txt', 'license'].find((name) =>
        existsSync(join(dir, name)),
      );
      return {
        name: manifest.name,
        version: manifest.version,
        license: manifest.license,
        licenseFile: licenseFile && relative(daemonDir, join(dir, licenseFile)),
      };
    })
    .sort((a, b) => a.name.localeCompare(b.name));
  return { version: pkg.version, undici: { version: undiciVersion, files: undiciFiles }, packages };
}
