// The bundle applies its own V8 settings (src/runtime/v8-flags.ts) however it is started: plain `node nerves-hub-link.mjs`,
// no options on the command line. A probe loaded before the bundle looks at the heap and at WebAssembly tiering
// when the process exits.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { BUNDLE } from './support/harness.js';

const dir = mkdtempSync(join(tmpdir(), 'daemon-v8-flags-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

// At exit: churn short-lived objects (the young generation grows to 16 MiB per semi-space by default), then call
// a WebAssembly function a million times (enough for V8 to tier it up, unless it runs Liftoff only).
const PROBE = `
import { getHeapSpaceStatistics } from 'node:v8';
process.on('exit', () => {
  let keep = [];
  for (let i = 0; i < 2e6; i++) { keep.push({ i, s: 'x' + i }); if (keep.length > 20000) keep = []; }
  const newSpace = getHeapSpaceStatistics().find((space) => space.space_name === 'new_space').space_size;
  // (module (func (export "f") (param i32) (result i32) local.get 0 i32.const 1 i32.add))
  const bytes = new Uint8Array([0,97,115,109,1,0,0,0,1,6,1,96,1,127,1,127,3,2,1,0,7,5,1,1,102,0,0,10,9,1,7,0,32,0,65,1,106,11]);
  const { exports } = new WebAssembly.Instance(new WebAssembly.Module(bytes));
  let x = 0;
  for (let i = 0; i < 1e6; i++) x = exports.f(x);
  process.stderr.write(JSON.stringify({ newSpaceMiB: newSpace / 1048576, liftoff: %IsLiftoffFunction(exports.f) }));
});
`;

describe('V8 settings', () => {
  it('are in force in the bundle started with no node options', () => {
    const probe = join(dir, 'probe.mjs');
    writeFileSync(probe, PROBE);
    const run = spawnSync(
      process.execPath,
      ['--allow-natives-syntax', '--import', probe, BUNDLE, '--version'],
      {
        encoding: 'utf8',
      },
    );
    expect(run.status, run.stderr).toBe(0);
    const seen = JSON.parse(run.stderr.trim().split('\n').at(-1)!);
    // One semi-space of 1 MiB and its twin; 32 MiB without the setting.
    expect(seen.newSpaceMiB).toBeLessThanOrEqual(2);
    expect(seen.liftoff).toBe(true);
  });
});
