#!/usr/bin/env node
// A stand-in for libubootenv-tool's fw_setenv where it is not installed (src/fake-ubootenv/).
import { setenv } from '../dist/fake-ubootenv/tools.js';

process.exitCode = setenv(process.argv.slice(2), {
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
});
