// Builds dist/nerves-hub-link.mjs: the daemon with ws, undici's dispatchers and smol-toml inside, one file that
// runs with plain `node` (20.18.1+) on any architecture, without node_modules. dist/bundle-manifest.json says
// what went in (the undici version and files).
import { statSync, writeFileSync } from 'node:fs';
import { build } from 'esbuild';
import { bundleManifest, sharedOptions } from './bundle-options.mjs';

const outfile = new URL('../dist/nerves-hub-link.mjs', import.meta.url).pathname;

const result = await build({
  ...sharedOptions,
  outfile,
  format: 'esm',
  legalComments: 'linked',
  // ws and undici require() Node built-ins; ESM output needs a require of its own.
  banner: {
    js: "#!/usr/bin/env node\nimport { createRequire as __nhlCreateRequire } from 'node:module'; const require = __nhlCreateRequire(import.meta.url);",
  },
});
writeFileSync(
  new URL('../dist/bundle-manifest.json', import.meta.url),
  `${JSON.stringify(bundleManifest(result.metafile), null, 2)}\n`,
);

const size = statSync(outfile).size;
console.log(`dist/nerves-hub-link.mjs: ${(size / 1024).toFixed(0)} KiB`);
