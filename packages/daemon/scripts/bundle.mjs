// Builds dist/nerves-hub-link.mjs: the daemon with ws, undici and smol-toml inside, one file that runs
// with plain `node` (20+) on any architecture, without node_modules. This is what goes onto a device.
import { readFileSync, statSync } from 'node:fs';
import { build } from 'esbuild';

const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
const outfile = new URL('../dist/nerves-hub-link.mjs', import.meta.url).pathname;

await build({
  entryPoints: [new URL('../dist/main.js', import.meta.url).pathname],
  outfile,
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'esm',
  minify: true,
  legalComments: 'linked',
  // ws and undici require() Node built-ins; ESM output needs a require of its own.
  banner: {
    js: "#!/usr/bin/env node\nimport { createRequire as __nhlCreateRequire } from 'node:module'; const require = __nhlCreateRequire(import.meta.url);",
  },
  define: {
    NERVES_HUB_LINK_VERSION: JSON.stringify(pkg.version),
    // ws probes for optional native add-ons; the bundle has none.
    'process.env.WS_NO_BUFFER_UTIL': '"1"',
    'process.env.WS_NO_UTF_8_VALIDATE': '"1"',
  },
  logLevel: 'warning',
});

const size = statSync(outfile).size;
console.log(`dist/nerves-hub-link.mjs: ${(size / 1024).toFixed(0)} KiB`);
