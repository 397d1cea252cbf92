#!/usr/bin/env node
// A stand-in for libubootenv-tool's fw_printenv where it is not installed (src/fake-ubootenv/).
import { printenv } from '../dist/fake-ubootenv/tools.js';

process.exitCode = printenv(process.argv.slice(2), {
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
});
