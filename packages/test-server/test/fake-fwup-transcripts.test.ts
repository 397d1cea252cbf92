// Every recorded run of the real fwup 1.16.0 on the small fixtures (test/fixtures/transcripts/*.json, README
// there), replayed against the fake in a scratch copy of the fixtures: the same command, then stdout byte for
// byte, stderr, the exit status and the state of the target compared with the recording.
import { execFileSync, spawn } from 'node:child_process';
import {
  chmodSync,
  copyFileSync,
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { open } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { smallFixtures } from '../src/fixtures/index.js';
import { fakeFwupPath } from '../src/index.js';
import { entryData } from './support/zip-entries.js';

const fixtures = smallFixtures.dir;
const transcripts = fileURLToPath(new URL('./fixtures/transcripts/', import.meta.url));
const scratch = mkdtempSync(join(tmpdir(), 'fake-fwup-transcripts-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

/** Recordings replayed by a test of their own below, or not reproduced, and why. */
const NOT_REPLAYED: Record<string, string> = {
  'apply-sigterm': 'replayed below: it needs a FIFO held open and a signal at the moment of the recording',
  metadata:
    "prints meta-creation-date and meta-nickname, which the fake leaves out (the nickname needs fwup's word list)",
  'metadata-framing': 'the same metadata text, framed',
};

interface Sidecar {
  readonly command: string;
  readonly exit_code: number | null;
  readonly stderr: string;
  readonly stdout_file: string;
  readonly devpath_after?: { exists: boolean; size?: number; payload_at_offset_0?: boolean };
  readonly substitutions?: Record<string, string>;
}

const payload = entryData(readFileSync(join(fixtures, 'small.fw')), 'data/system.img');

function run(dir: string, args: string[]): Promise<{ code: number | null; stdout: Buffer; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [fakeFwupPath, ...args], {
      cwd: dir,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const stdout: Buffer[] = [];
    const stderr: Buffer[] = [];
    child.stdout.on('data', (chunk: Buffer) => stdout.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => stderr.push(chunk));
    child.on('error', reject);
    child.on('close', (code) =>
      resolve({ code, stdout: Buffer.concat(stdout), stderr: Buffer.concat(stderr).toString('latin1') }),
    );
  });
}

const withoutElapsedTime = (bytes: Buffer) =>
  bytes.toString('latin1').replace(/Elapsed time: \d+\.\d{3} s\n/, 'Elapsed time: <elapsed> s\n');

describe('fake fwup: every recorded run on the small fixtures', () => {
  const names = readdirSync(transcripts)
    .filter((file) => file.endsWith('.json'))
    .map((file) => file.slice(0, -'.json'.length));

  for (const name of names) {
    const skip = NOT_REPLAYED[name];
    it.skipIf(skip !== undefined)(
      `${name}: the same stdout, stderr, exit status and target${skip ? ` (${skip})` : ''}`,
      async () => {
        const sidecar = JSON.parse(readFileSync(join(transcripts, `${name}.json`), 'utf8')) as Sidecar;
        const dir = mkdtempSync(join(scratch, `${name}-`));
        for (const file of readdirSync(fixtures).filter((f) => f.endsWith('.fw') || f.endsWith('.pub'))) {
          copyFileSync(join(fixtures, file), join(dir, file));
        }
        const devpath = sidecar.substitutions?.['<devpath>'];
        if (devpath === 'readonly.img') {
          writeFileSync(join(dir, devpath), '');
          chmodSync(join(dir, devpath), 0o444);
        }
        const result = await run(dir, sidecar.command.split(' ').slice(1));
        expect(withoutElapsedTime(result.stdout)).toBe(
          withoutElapsedTime(readFileSync(join(transcripts, sidecar.stdout_file))),
        );
        expect(result.stderr).toBe(sidecar.stderr);
        expect(result.code).toBe(sidecar.exit_code);
        const after = sidecar.devpath_after;
        if (after && devpath) {
          const target = join(dir, devpath);
          expect(existsSync(target)).toBe(after.exists);
          if (after.size !== undefined) expect(readFileSync(target).length).toBe(after.size);
          if (after.payload_at_offset_0)
            expect(readFileSync(target).subarray(0, payload.length).equals(payload)).toBe(true);
        }
      },
    );
  }

  it('apply-sigterm: streams the archive as it arrives and dies by the signal, leaving the flushed segment', async () => {
    const sidecar = JSON.parse(readFileSync(join(transcripts, 'apply-sigterm.json'), 'utf8')) as Sidecar;
    const recorded = readFileSync(join(transcripts, sidecar.stdout_file));
    const dir = mkdtempSync(join(scratch, 'apply-sigterm-'));
    const fifo = join(dir, 'small.fifo');
    execFileSync('mkfifo', [fifo]);
    const child = spawn(process.execPath, [fakeFwupPath, ...sidecar.command.split(' ').slice(1)], {
      cwd: dir,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const stdout: Buffer[] = [];
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString('latin1');
    });
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
      child.on('close', (code, signal) => resolve({ code, signal })),
    );
    // The recording fed the first 140000 bytes and held the pipe open; SIGTERM came once fwup had stalled.
    const writer = await open(fifo, 'w');
    await writer.write(readFileSync(join(fixtures, 'small.fw')).subarray(0, 140000));
    await new Promise<void>((resolve) =>
      child.stdout.on('data', (chunk: Buffer) => {
        stdout.push(chunk);
        if (Buffer.concat(stdout).length >= recorded.length) resolve();
      }),
    );
    child.kill('SIGTERM');
    expect(await exited).toEqual({ code: null, signal: 'SIGTERM' });
    await writer.close();
    expect(Buffer.concat(stdout).equals(recorded)).toBe(true);
    expect(stderr).toBe(sidecar.stderr);
    expect(readFileSync(join(dir, 'target.img')).length).toBe(131072);
  });
});
