// What the package offers its callers: the names the daemon uses and no more, one error class, and a closed list
// of error codes that the README names, each thrown somewhere.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { FIRMWARE_ERROR_CODES } from '../src/errors.js';
import * as firmware from '../src/index.js';

const packageDir = fileURLToPath(new URL('..', import.meta.url));
const sources = (readdirSync(join(packageDir, 'src'), { recursive: true }) as string[])
  .filter((name) => name.endsWith('.ts') && !name.endsWith('.test.ts'))
  .map((name) => ({ name, text: readFileSync(join(packageDir, 'src', name), 'utf8') }));

describe('the package surface', () => {
  it('exports what a caller uses, by name', () => {
    expect(Object.keys(firmware).sort()).toEqual([
      'FirmwareError',
      'MIN_RATE_BYTES_PER_SECOND',
      'REQUIRED_FIRMWARE_KEYS',
      'applyFirmware',
      'downloadFirmware',
      'fwupVersion',
      'interpretEnvironment',
      'readFirmwareMetadata',
      'verifyFirmware',
    ]);
  });

  it('re-exports nothing wholesale', () => {
    const wholesale = sources.filter(({ text }) => /^export \*/m.test(text)).map(({ name }) => name);
    expect(wholesale).toEqual([]);
  });
});

describe('errors', () => {
  it('are FirmwareErrors, declared in errors.ts', () => {
    const classes = sources.flatMap(({ name, text }) =>
      [...text.matchAll(/class (\w+) extends (\w*Error)\b/g)].map((m) => `${name}: ${m[1]}`),
    );
    expect(classes).toEqual(['errors.ts: FirmwareError']);
    expect(new firmware.FirmwareError('FW_NETWORK', 'network error: x').name).toBe('FirmwareError');
  });

  it('have codes the README lists, every one of them and no other', () => {
    const readme = readFileSync(join(packageDir, 'README.md'), 'utf8');
    const section = readme.slice(
      readme.indexOf('\n## Errors'),
      readme.indexOf('\n## ', readme.indexOf('\n## Errors') + 1),
    );
    const listed = [...section.matchAll(/`(FW_[A-Z_]+)`/g)].map((m) => m[1]);
    expect([...new Set(listed)].sort()).toEqual([...FIRMWARE_ERROR_CODES].sort());
  });

  it('have codes that are each thrown somewhere', () => {
    const thrown = (code: string) =>
      sources.some(({ name, text }) => name !== 'errors.ts' && text.includes(`'${code}'`));
    expect(FIRMWARE_ERROR_CODES.filter((code) => !thrown(code))).toEqual([]);
  });
});
