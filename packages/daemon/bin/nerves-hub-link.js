#!/usr/bin/env node
// The CLI from a clone or an installed package: the built entry, or one line saying how to build it.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const entry = new URL('../dist/main.js', import.meta.url);
if (existsSync(entry)) {
  await import(entry.href);
} else {
  process.stderr.write(`nerves-hub-link: ${fileURLToPath(entry)} is missing: run pnpm build first\n`);
  process.exitCode = 1;
}
