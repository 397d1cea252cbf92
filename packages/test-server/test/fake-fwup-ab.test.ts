// The fake fwup on an A/B target, step by step as the real fwup 1.16.0 and libubootenv 0.3.2 were recorded
// (test/fixtures/transcripts-ab/, README there): the same command in a folder laid out like the recording, then
// the output (stdout and stderr together), the exit status, the 8 KiB environment block at byte 0x2000 and the
// listing of the real fw_printenv compared with what was recorded.
import { spawn } from 'node:child_process';
import { closeSync, copyFileSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { abFixtures } from '../src/fixtures/index.js';
import { fakeFwupPath } from '../src/index.js';
import { libubootenvTools } from './support/libubootenv.js';

const transcriptDir = fileURLToPath(new URL('./fixtures/transcripts-ab/', import.meta.url));
const DISK_BYTES = 2 * 1024 * 1024;
const { ubootEnvOffset, ubootEnvSize, slotAOffset, slotBOffset, slotSize } = abFixtures.layout;

const tools = libubootenvTools();
if (tools.missing) console.warn(`skipping the fw_printenv/fw_setenv steps: ${tools.missing}`);

interface Recorded {
  readonly name: string;
  readonly argv: readonly string[];
  readonly output: Buffer;
  readonly exitStatus: number;
  readonly printenv: string;
  readonly envBlock: Buffer;
}

/** One NN-name.txt: `$ command`, the output bytes, `exit status: N`, `--- fw_printenv ...`, the listing. */
function recorded(name: string): Recorded {
  const text = readFileSync(join(transcriptDir, `${name}.txt`));
  const commandEnd = text.indexOf('\n');
  const statusAt = text.lastIndexOf('exit status: ');
  const listingAt = text.indexOf('\n', text.indexOf('--- fw_printenv', statusAt)) + 1;
  return {
    name,
    argv: text.toString('latin1', 2, commandEnd).split(' '),
    output: text.subarray(commandEnd + 1, statusAt),
    exitStatus: Number(/exit status: (\d+)/.exec(text.toString('latin1', statusAt))![1]),
    printenv: text.toString('latin1', listingAt),
    envBlock: readFileSync(join(transcriptDir, `${name}.env.bin`)),
  };
}

/** A folder like the recording's: the archives and key under their recorded names, a blank disk.img. */
function freshTarget(label: string): string {
  const dir = mkdtempSync(join(tmpdir(), `fake-fwup-ab-${label}-`));
  for (const [name, source] of [
    ['ab-v1.fw', abFixtures.v1Firmware],
    ['ab-v2.fw', abFixtures.v2Firmware],
    ['ops.fw', abFixtures.opsFirmware],
    ['ab-key.pub', abFixtures.publicKey],
  ] as const) {
    copyFileSync(source, join(dir, name));
  }
  writeFileSync(join(dir, 'disk.img'), Buffer.alloc(DISK_BYTES));
  writeFileSync(join(dir, 'fw_env.config'), 'disk.img 0x2000 0x2000\n');
  targets.push(dir);
  return dir;
}
const targets: string[] = [];
afterAll(() => {
  for (const dir of targets) rmSync(dir, { recursive: true, force: true });
});

/** Runs a command in `dir` with stdout and stderr on one file, as the recording captured them. */
async function run(
  dir: string,
  program: string,
  args: readonly string[],
): Promise<{ status: number; output: Buffer }> {
  const outputFile = join(dir, 'output.bin');
  const fd = openSync(outputFile, 'w');
  try {
    const child = spawn(program, args, { cwd: dir, stdio: ['ignore', fd, fd] });
    const status = await new Promise<number>((resolve, reject) => {
      child.on('error', reject);
      child.on('close', (code) => resolve(code ?? -1));
    });
    return { status, output: readFileSync(outputFile) };
  } finally {
    closeSync(fd);
  }
}

function runRecorded(dir: string, step: Recorded) {
  const [program, ...args] = step.argv;
  if (program === 'fwup') return run(dir, process.execPath, [fakeFwupPath, ...args]);
  return run(dir, tools.path(program!), args);
}

/** The elapsed time at the end of a progress bar is the only part that differs between runs of the real fwup. */
function withoutElapsedTime(output: Buffer): string {
  return output.toString('latin1').replace(/Elapsed time: \d+\.\d{3} s\n/, 'Elapsed time: <elapsed> s\n');
}

function disk(dir: string): Buffer {
  return readFileSync(join(dir, 'disk.img'));
}

async function expectPrintenv(dir: string, step: Recorded) {
  const { output } = await run(dir, tools.path('fw_printenv'), ['-c', 'fw_env.config']);
  const sorted = output.toString('latin1').split('\n').filter(Boolean).sort();
  expect(sorted.map((line) => `${line}\n`).join('')).toBe(step.printenv);
}

async function expectReplay(dir: string, step: Recorded) {
  const result = await runRecorded(dir, step);
  expect(withoutElapsedTime(result.output)).toBe(withoutElapsedTime(step.output));
  expect(result.status).toBe(step.exitStatus);
  expect(
    disk(dir)
      .subarray(ubootEnvOffset, ubootEnvOffset + ubootEnvSize)
      .equals(step.envBlock),
  ).toBe(true);
}

const slot = (image: Buffer, offset: number) => image.subarray(offset, offset + slotSize);
const rootfsV1 = readFileSync(abFixtures.rootfsV1);
const rootfsV2 = readFileSync(abFixtures.rootfsV2);

describe.sequential('fake fwup: the recorded A/B life cycle on one disk', () => {
  const dir = freshTarget('cycle');
  const steps = [
    '01-complete-v1',
    '02-upgrade-v2-from-a',
    '03-ops-validate-b',
    '04-upgrade-v1-from-b',
    '05-ops-revert-from-a',
  ].map(recorded);
  const slotChecks: Record<string, (image: Buffer) => void> = {
    '01-complete-v1': (image) => expect(slot(image, slotAOffset).equals(rootfsV1)).toBe(true),
    '02-upgrade-v2-from-a': (image) => expect(slot(image, slotBOffset).equals(rootfsV2)).toBe(true),
    '04-upgrade-v1-from-b': (image) => {
      expect(slot(image, slotAOffset).equals(rootfsV1)).toBe(true);
      expect(slot(image, slotBOffset).equals(rootfsV2)).toBe(true);
    },
  };

  for (const step of steps) {
    it(`${step.name}: prints what fwup printed, exits ${step.exitStatus} and leaves the recorded environment`, async () => {
      await expectReplay(dir, step);
      slotChecks[step.name]?.(disk(dir));
      expect(disk(dir).length).toBe(DISK_BYTES);
    });
    it(`${step.name}: the real fw_printenv lists the recorded variables`, async (context) => {
      context.skip(tools.missing !== undefined && !process.env.CI, tools.missing);
      await expectPrintenv(dir, step);
    });
  }

  const setenv = recorded('06-fw_setenv-libubootenv');
  const afterSetenv = recorded('07-ops-validate-after-fw_setenv');
  it("06-fw_setenv-libubootenv: the real fw_setenv rewrites the block in fwup's layout", async (context) => {
    context.skip(tools.missing !== undefined && !process.env.CI, tools.missing);
    await expectReplay(dir, setenv);
    await expectPrintenv(dir, setenv);
  });
  it('07-ops-validate-after-fw_setenv: the fake reads what fw_setenv wrote', async (context) => {
    context.skip(tools.missing !== undefined && !process.env.CI, `step 06 needs fw_setenv: ${tools.missing}`);
    await expectReplay(dir, afterSetenv);
    await expectPrintenv(dir, afterSetenv);
  });
});

describe.sequential('fake fwup: the recorded runs on a blank disk', () => {
  const dir = freshTarget('blank');
  for (const step of ['08-upgrade-on-blank-env', '09-validate-on-blank-env'].map(recorded)) {
    it(`${step.name}: fails as fwup did, exit ${step.exitStatus}, writing nothing`, async () => {
      await expectReplay(dir, step);
      expect(disk(dir).equals(Buffer.alloc(DISK_BYTES))).toBe(true);
    });
    it(`${step.name}: the real fw_printenv finds no environment`, async (context) => {
      context.skip(tools.missing !== undefined && !process.env.CI, tools.missing);
      await expectPrintenv(dir, step);
    });
  }
});

describe.sequential('fake fwup: the recorded framed upgrade', () => {
  const dir = freshTarget('framed');
  const framed = recorded('10-upgrade-framed');
  it('10-upgrade-framed: after 01, writes the same frames as fwup --framing and the recorded environment', async () => {
    await expectReplay(dir, recorded('01-complete-v1'));
    await expectReplay(dir, framed);
    expect(slot(disk(dir), slotBOffset).equals(rootfsV2)).toBe(true);
  });
  it('10-upgrade-framed: the real fw_printenv lists the recorded variables', async (context) => {
    context.skip(tools.missing !== undefined && !process.env.CI, tools.missing);
    await expectPrintenv(dir, framed);
  });
});
