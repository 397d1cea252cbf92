// The contributor's path: the nerves-hub-test-server CLI prints a device config; the daemon updates with it.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { fixture, startDaemon } from './support/harness.js';

const dir = mkdtempSync(join(tmpdir(), 'contributor-flow-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const testServerBin = join(
  dirname(createRequire(import.meta.url).resolve('@nerves-hub-link/test-server/package.json')),
  'bin/nerves-hub-test-server.js',
);

describe('nerves-hub-test-server + nerves-hub-link', () => {
  it('the printed config works as it is: a whole update cycle', async () => {
    // Signed firmware and the organization's signing key, as on a real NervesHub.
    const server = spawn(
      process.execPath,
      [
        testServerBin,
        '--dir',
        dir,
        '--update',
        '--public-key',
        fixture('fwup-key.pub'),
        fixture('small-signed.fw'),
      ],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    try {
      let printed = '';
      server.stdout!.setEncoding('utf8').on('data', (text: string) => {
        printed += text;
      });
      while (!/device config for .*: (\S+)/.test(printed)) await once(server.stdout!, 'data');
      const configFile = /device config for .*: (\S+)/.exec(printed)![1]!;
      expect(readFileSync(configFile, 'utf8')).not.toMatch(/allow_unsigned/);
      const daemon = startDaemon(['run', '--config', configFile]);
      expect((await daemon.waitForExit()).code).toBe(0);
      expect(daemon.output()).toContain('would reboot now');
      const statuses = readFileSync(join(dir, 'events.jsonl'), 'utf8')
        .trim()
        .split('\n')
        .map((line) => JSON.parse(line))
        .filter((entry) => entry.event === 'status_update')
        .map((entry) => entry.payload.status);
      expect(statuses).toEqual(['received', 'started', 'completed']);
    } finally {
      server.kill('SIGTERM');
      await once(server, 'exit');
    }
  });
});
