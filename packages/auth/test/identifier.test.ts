import { chmodSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveIdentifier } from '../src/index.js';
import { createPki, type Pki } from './support/pki.js';

let pki: Pki;
beforeAll(async () => {
  pki = await createPki();
});
afterAll(() => pki.cleanup());

function script(name: string, body: string): string {
  const path = join(pki.dir, name);
  writeFileSync(path, `#!/bin/sh\n${body}\n`);
  chmodSync(path, 0o755);
  return path;
}

describe('resolveIdentifier', () => {
  it('runs a command without a shell and trims its output', async () => {
    expect(await resolveIdentifier({ command: ['echo', '  nh-0042  '] })).toBe('nh-0042');
    const file = join(pki.dir, 'serial');
    writeFileSync(file, 'ABC123\n');
    expect(await resolveIdentifier({ command: `cat ${file}` })).toBe('ABC123');
  });

  it('gives the command the environment it is passed', async () => {
    const printing = script('env.sh', 'printf %s "$SERIAL_FROM_ENV"');
    expect(await resolveIdentifier({ command: [printing], env: { SERIAL_FROM_ENV: 'nh-env' } })).toBe(
      'nh-env',
    );
  });

  it('does not interpret shell syntax unless asked to', async () => {
    expect(await resolveIdentifier({ command: 'echo $HOME' })).toBe('$HOME');
    expect(await resolveIdentifier({ command: 'echo a-$((40+2))', shell: true })).toBe('a-42');
  });

  it('reports a non-zero exit with the end of stderr', async () => {
    const failing = script('fail.sh', 'echo "no serial in eeprom" >&2; exit 3');
    const error = await resolveIdentifier({ command: [failing] }).catch((e) => e);
    expect(error.code).toBe('AUTH_IDENTIFIER_COMMAND_FAILED');
    expect(error.exitCode).toBe(3);
    expect(error.message).toContain('no serial in eeprom');
  });

  it('reports a command that does not exist', async () => {
    const error = await resolveIdentifier({ command: ['/nonexistent/serial-tool'] }).catch((e) => e);
    expect(error.code).toBe('AUTH_IDENTIFIER_COMMAND_NOT_FOUND');
  });

  it('reports a command that cannot start, with the reason', async () => {
    const error = await resolveIdentifier({ command: [pki.dir] }).catch((e) => e);
    expect(error.code).toBe('AUTH_IDENTIFIER_COMMAND_FAILED');
    expect(error.message).toMatch(/^serial command ".*" could not start: spawn .* EACCES$/);
  });

  it('reports empty and multi-line output', async () => {
    expect((await resolveIdentifier({ command: ['true'] }).catch((e) => e)).code).toBe(
      'AUTH_IDENTIFIER_EMPTY',
    );
    const twoLines = script('two.sh', 'echo one; echo two');
    expect((await resolveIdentifier({ command: [twoLines] }).catch((e) => e)).code).toBe(
      'AUTH_IDENTIFIER_INVALID',
    );
  });

  it('stops a command that hangs, even one that ignores SIGTERM', async () => {
    const stubborn = script('hang.sh', "trap '' TERM; sleep 30");
    const started = Date.now();
    const error = await resolveIdentifier({ command: [stubborn], timeoutMs: 200 }).catch((e) => e);
    expect(error.code).toBe('AUTH_IDENTIFIER_TIMEOUT');
    expect(Date.now() - started).toBeLessThan(10_000);
  });

  it('can be cancelled', async () => {
    const controller = new AbortController();
    const pending = resolveIdentifier({ command: ['sleep', '30'] }, { signal: controller.signal });
    setTimeout(() => controller.abort(), 50);
    expect((await pending.catch((e) => e)).code).toBe('AUTH_IDENTIFIER_ABORTED');
  });

  it('takes a literal, or the CN of the device certificate', async () => {
    expect(await resolveIdentifier({ value: ' dev-7 ' })).toBe('dev-7');
    const device = await pki.leaf('serial-from-cn');
    expect(await resolveIdentifier({ certFile: device.certFile })).toBe('serial-from-cn');
  });
});
