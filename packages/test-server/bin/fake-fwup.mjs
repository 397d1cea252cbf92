#!/usr/bin/env node
// A stand-in for fwup 1.16.0 where the real one cannot be installed: the same command line, output bytes,
// messages, exit codes and effects on the target, from real .fw archives. The implementation is
// src/fake-fwup/ (built to dist/); its README section lists what it does and does not do.
import { basename } from 'node:path';
import { main } from '../dist/fake-fwup/main.js';

process.exitCode = main(process.argv.slice(2), basename(process.argv[1]), process.env);
