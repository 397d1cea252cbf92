// What the bundle (dist/nerves-hub-link.mjs, and the single executables made of the same build) takes from undici:
// the dispatchers the firmware download uses, from the undici version the firmware package resolves, and nothing of
// fetch, WebSocket, the caches or the mock agent. ProxyAgent's tunnel is exercised end to end through tinyproxy
// (network.test.ts). dist/bundle-manifest.json is written by scripts/bundle.mjs from esbuild's list of inputs.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BUNDLE } from '../support/harness.js';
import { DAEMON_DIR } from './support/artifacts.js';

interface Manifest {
  undici: { version: string; files: string[] };
  packages: { name: string; version: string; license: string; licenseFile?: string }[];
}

const manifest = JSON.parse(readFileSync(join(DAEMON_DIR, 'dist/bundle-manifest.json'), 'utf8')) as Manifest;
const firmwareDir = join(DAEMON_DIR, '../firmware');
const firmwarePackage = JSON.parse(readFileSync(join(firmwareDir, 'package.json'), 'utf8')) as {
  dependencies: Record<string, string>;
};

describe('the bundle', () => {
  it("holds the undici version the firmware package resolves (the lockfile's), within its range", () => {
    const range = firmwarePackage.dependencies.undici ?? '';
    const resolved = createRequire(join(firmwareDir, 'package.json'))('undici/package.json') as {
      version: string;
    };
    expect(manifest.undici.version).toBe(resolved.version);
    expect(manifest.packages.find((pkg) => pkg.name === 'undici')?.version).toBe(resolved.version);
    // A caret range: the same major, no older than its floor.
    const [floorMajor, ...floor] = range.replace(/^\^/, '').split('.').map(Number);
    const [major, ...rest] = resolved.version.split('.').map(Number);
    expect(range).toMatch(/^\^\d+\.\d+\.\d+$/);
    expect(major).toBe(floorMajor);
    expect(rest[0]! > floor[0]! || (rest[0] === floor[0] && rest[1]! >= floor[1]!)).toBe(true);
  });

  it("takes undici's dispatchers and the CONNECT API ProxyAgent needs, not its index", () => {
    const files = manifest.undici.files;
    expect(files).toEqual(
      expect.arrayContaining([
        'lib/dispatcher/agent.js',
        'lib/dispatcher/client.js',
        'lib/dispatcher/proxy-agent.js',
        'lib/core/connect.js',
        'lib/api/api-connect.js',
      ]),
    );
    expect(files).not.toContain('index.js');
    const unused = files.filter((file) =>
      /^lib\/(web\/(websocket|eventsource|cache|cookies)|mock|cache|interceptor)\/|^lib\/api\/api-(request|stream|pipeline|upgrade)\.js$/.test(
        file,
      ),
    );
    expect(unused).toEqual([]);
  });

  it('starts without loading node:http2, which only an HTTP/2 connection would need', () => {
    const probe = spawnSync(
      process.execPath,
      [
        '--import',
        'data:text/javascript,process.on("exit",()=>process.stderr.write(JSON.stringify(process.moduleLoadList)))',
        BUNDLE,
        '--version',
      ],
      { encoding: 'utf8' },
    );
    expect(probe.status, probe.stderr).toBe(0);
    const loaded = JSON.parse(probe.stderr) as string[];
    expect(loaded).toContain('NativeModule tls');
    expect(loaded).not.toContain('NativeModule http2');
  });
});
