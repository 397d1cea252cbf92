// The fake fwup against the bytes the real fwup 1.16.0 printed for the same archives and arguments.
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { smallFixtures } from '../src/fixtures/index.js';
import { fakeFwupPath } from '../src/index.js';

const fixture = (name: string) => join(smallFixtures.dir, name);
const transcriptFile = (name: string) =>
  fileURLToPath(new URL(`./fixtures/transcripts/${name}`, import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'fake-fwup-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function fwup(args: string[]): Promise<{ code: number | null; stdout: Buffer; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [fakeFwupPath, ...args], { encoding: 'buffer' }, (error, stdout, stderr) => {
      resolve({
        code: error ? ((error as { code?: number }).code ?? null) : 0,
        stdout,
        stderr: stderr.toString(),
      });
    });
  });
}

const cases: [string, string[], number, string][] = [
  ['apply-ok', ['-i', 'small.fw'], 0, ''],
  ['apply-corrupt-payload', ['-i', 'small-corrupt.fw'], 1, '\n'],
  ['apply-wrong-key', ['-i', 'small-signed.fw', '-p', 'wrong-key.pub'], 1, '\n'],
  ['apply-unsigned-key-required', ['-i', 'small.fw', '-p', 'fwup-key.pub'], 1, '\n'],
];

describe('fake fwup: apply', () => {
  for (const [transcript, args, exitCode, stderr] of cases) {
    it(`reproduces ${transcript} byte for byte`, async () => {
      const target = join(dir, `${transcript}.img`);
      const resolved = args.map((arg) => (arg.endsWith('.fw') || arg.endsWith('.pub') ? fixture(arg) : arg));
      const result = await fwup(['-a', '--framing', ...resolved, '-d', target, '-t', 'upgrade']);
      expect(result.code).toBe(exitCode);
      expect(result.stderr).toBe(stderr);
      expect(result.stdout.equals(readFileSync(transcriptFile(`${transcript}.framed.bin`)))).toBe(true);
    });
  }

  it('writes the payload on success and half of it on a late CRC failure', async () => {
    const ok = join(dir, 'ok-size.img');
    await fwup(['-a', '--framing', '-i', fixture('small.fw'), '-d', ok, '-t', 'upgrade']);
    expect(statSync(ok).size).toBe(262144);
    const bad = join(dir, 'bad-size.img');
    await fwup(['-a', '--framing', '-i', fixture('small-corrupt.fw'), '-d', bad, '-t', 'upgrade']);
    expect(statSync(bad).size).toBe(131072);
  });

  it('names a missing task like fwup', async () => {
    const result = await fwup([
      '-a',
      '--framing',
      '-i',
      fixture('small.fw'),
      '-d',
      join(dir, 't.img'),
      '-t',
      'nosuchtask',
    ]);
    expect(result.stdout.equals(readFileSync(transcriptFile('apply-missing-task.framed.bin')))).toBe(true);
  });
});

describe('fake fwup: verify', () => {
  const verifyCases: [string, string[]][] = [
    ['verify-unsigned', ['small.fw']],
    ['verify-signed-ok', ['small-signed.fw', 'fwup-key.pub']],
    ['verify-signed-no-key', ['small-signed.fw']],
    ['verify-wrong-key', ['small-signed.fw', 'wrong-key.pub']],
    ['verify-unsigned-key-required', ['small.fw', 'fwup-key.pub']],
    ['verify-corrupt-payload', ['small-corrupt.fw']],
    ['verify-tampered-payload', ['small-signed-tampered.fw', 'fwup-key.pub']],
  ];
  for (const [transcript, [file, key]] of verifyCases) {
    it(`reproduces ${transcript}`, async () => {
      const result = await fwup([
        '-V',
        '--framing',
        '-i',
        fixture(file!),
        ...(key ? ['-p', fixture(key)] : []),
      ]);
      expect(result.stdout.equals(readFileSync(transcriptFile(`${transcript}.framed.bin`)))).toBe(true);
      expect(result.code).toBe(
        transcript.includes('ok') || transcript.includes('no-key') || transcript === 'verify-unsigned'
          ? 0
          : 1,
      );
    });
  }

  it('prints its version unframed', async () => {
    expect((await fwup(['--version'])).stdout.toString()).toBe('1.16.0\n');
  });
});
