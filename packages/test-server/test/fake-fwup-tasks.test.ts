// What fwup's source says a task does where no recording shows it (fwup 1.16.0, src/fwup_apply.c,
// src/requirement.c, src/uboot_env.c @6f3bf79), and where the fake stops being fwup.
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { crc32 } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import {
  abFixtures,
  buildFwArchive,
  formatMetaConf,
  type MetaConfTask,
  smallFixtures,
} from '../src/fixtures/index.js';
import { fakeFwupPath } from '../src/index.js';
import { decodeFrames } from './support/frames.js';
import { localEntries } from './support/zip-entries.js';

const dir = mkdtempSync(join(tmpdir(), 'fake-fwup-tasks-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const DISK_BYTES = 2 * 1024 * 1024;
const afterComplete = readFileSync(
  fileURLToPath(new URL('./fixtures/transcripts-ab/01-complete-v1.env.bin', import.meta.url)),
);

function fwup(args: string[]): Promise<{ code: number; frames: string[]; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [fakeFwupPath, ...args], { encoding: 'buffer' }, (error, stdout, stderr) => {
      resolve({
        code: error ? Number((error as { code?: number }).code) : 0,
        frames: decodeFrames(stdout),
        stderr: stderr.toString(),
      });
    });
  });
}

function archive(
  name: string,
  tasks: MetaConfTask[],
  resources: { name: string; data: Buffer }[] = [],
): string {
  const path = join(dir, name);
  const metaConf = formatMetaConf({
    meta: { 'meta-product': 'tasks', 'meta-version': '1' },
    resources,
    tasks,
    ubootEnvironments: [{ name: 'uboot-env', blockOffset: 16, blockCount: 16 }],
  });
  writeFileSync(path, buildFwArchive({ metaConf, resources }));
  return path;
}

function blankDisk(name: string, init?: (disk: Buffer) => void): string {
  const disk = Buffer.alloc(DISK_BYTES);
  init?.(disk);
  const path = join(dir, name);
  writeFileSync(path, disk);
  return path;
}

describe('fake fwup tasks, as fwup runs them', () => {
  it('leaves the target exactly as it was when a payload fails its CRC: the cache is thrown away', async () => {
    const disk = blankDisk('damaged-upgrade.img');
    const complete = await fwup([
      '-a',
      '--framing',
      '-d',
      disk,
      '-i',
      abFixtures.v1Firmware,
      '-t',
      'complete',
    ]);
    expect(complete.code).toBe(0);
    const before = readFileSync(disk);
    expect(before.subarray(0x2000, 0x4000).equals(afterComplete)).toBe(true);
    // ab-v2.fw with one payload byte flipped, inside a stored deflate block so the byte reaches the data.
    const real = readFileSync(abFixtures.v2Firmware);
    const payload = localEntries(real).entries.find((entry) => entry.name === 'data/rootfs.img')!;
    const damaged = Buffer.from(real);
    const flipAt = payload.data.byteOffset - real.byteOffset + 30_000;
    damaged[flipAt]! ^= 0xff;
    const damagedPath = join(dir, 'ab-v2-damaged.fw');
    writeFileSync(damagedPath, damaged);
    const rootfs = readFileSync(abFixtures.rootfsV2);
    const damagedRootfs = Buffer.from(rootfs);
    damagedRootfs[rootfs.indexOf(real.subarray(flipAt - 32, flipAt)) + 32]! ^= 0xff;

    const upgrade = await fwup(['-a', '--framing', '-d', disk, '-i', damagedPath, '-t', 'upgrade']);
    expect(upgrade.frames.at(-1)).toBe(
      `ER 0 "ZIP bad CRC: 0x${crc32(damagedRootfs).toString(16)} should be 0x${crc32(rootfs).toString(16)}"`,
    );
    expect(upgrade.code).toBe(1);
    expect(upgrade.stderr).toBe('\n');
    expect(readFileSync(disk).equals(before)).toBe(true);
  });

  it('fails uboot_setenv on a blank environment with the CRC error fwup gives', async () => {
    const fw = archive('setenv-blank.fw', [
      { name: 'mark', onInit: [['uboot_setenv', 'uboot-env', 'nerves_fw_validated', '1']] },
    ]);
    const result = await fwup([
      '-a',
      '--framing',
      '-d',
      blankDisk('setenv-blank.img'),
      '-i',
      fw,
      '-t',
      'mark',
    ]);
    const blankCrc = (crc32(Buffer.alloc(8192 - 4)) >>> 0).toString(16).padStart(8, '0');
    expect(result.frames).toEqual([
      'PR 0',
      `ER 0 "U-boot environment (block 16) CRC32 mismatch (expected 0x00000000; got 0x${blankCrc})"`,
    ]);
    expect(result.code).toBe(1);
  });

  it('selects by require-partition-offset, reading the MBR on the target before writing', async () => {
    const fw = archive('by-partition.fw', [
      {
        name: 'upgrade.b',
        requirements: [['require-partition-offset', '1', '4096']],
        onInit: [['info', 'b']],
      },
      {
        name: 'upgrade.a',
        requirements: [['require-partition-offset', '1', '2048']],
        onInit: [['info', 'a']],
      },
      { name: 'upgrade.none', onInit: [['info', 'no partition matched']] },
    ]);
    const withMbr = blankDisk('mbr.img', (disk) => {
      disk.writeUInt32LE(2048, 446 + 16 + 8);
      disk[510] = 0x55;
      disk[511] = 0xaa;
    });
    for (const [disk, message] of [
      [withMbr, 'a'],
      [blankDisk('no-mbr.img'), 'no partition matched'],
    ] as const) {
      const result = await fwup(['-a', '--framing', '-d', disk, '-i', fw, '-t', 'upgrade']);
      expect(result.frames).toEqual(['PR 0', `WN 0 "${message}"`, 'PR 100', 'OK 0 ""']);
    }
  });

  it('refuses a function it does not implement before writing anything, saying so', async () => {
    const fw = archive('fat.fw', [
      {
        name: 'complete',
        onInit: [
          ['uboot_clearenv', 'uboot-env'],
          ['fat_mkfs', '63', '77261'],
        ],
      },
    ]);
    const disk = blankDisk('fat.img');
    const result = await fwup(['-a', '--framing', '-d', disk, '-i', fw, '-t', 'complete']);
    expect(result.frames).toEqual([
      'PR 0',
      'ER 0 "fake fwup: fat_mkfs() is not implemented (see @nerves-hub-link/test-server README)"',
    ]);
    expect(result.code).toBe(1);
    expect(readFileSync(disk).equals(Buffer.alloc(DISK_BYTES))).toBe(true);
  });

  it("runs the task's on-error after a failure, before the error is printed", async () => {
    const fw = archive('on-error.fw', [
      {
        name: 'complete',
        onInit: [['error', 'refusing on purpose']],
        onError: [['info', 'cleaning up after the failure']],
      },
    ]);
    const result = await fwup([
      '-a',
      '--framing',
      '-d',
      blankDisk('on-error.img'),
      '-i',
      fw,
      '-t',
      'complete',
    ]);
    expect(result.frames).toEqual([
      'PR 0',
      'WN 0 "cleaning up after the failure"',
      'ER 0 "refusing on purpose"',
    ]);
    expect(result.code).toBe(1);
  });
});

describe('fake fwup on cut-off downloads, where fwup 1.16.0 was measured', () => {
  const small = readFileSync(smallFixtures.unsigned);
  for (const [label, bytes, message] of [
    ['the first 100 bytes', 100, 'Unexpected meta.conf size: 0'],
    ['the first 1000 bytes (just into the payload)', 1000, 'ZIP decompression failed (-5)'],
  ] as const) {
    it(`fails ${label} with "${message}"`, async () => {
      const cut = join(dir, `cut-${bytes}.fw`);
      writeFileSync(cut, small.subarray(0, bytes));
      const verify = await fwup(['-V', '--framing', '-i', cut]);
      expect(verify.frames).toEqual([`ER 0 ${JSON.stringify(message)}`]);
      const apply = await fwup([
        '-a',
        '--framing',
        '-i',
        cut,
        '-d',
        join(dir, `cut-${bytes}.img`),
        '-t',
        'upgrade',
      ]);
      expect(apply.frames).toEqual(['PR 0', `ER 0 ${JSON.stringify(message)}`]);
      expect(apply.code).toBe(1);
    });
  }

  it('verifies and applies a file that lost only its central directory: fwup never reads it', async () => {
    const cut = join(dir, 'no-directory.fw');
    writeFileSync(cut, small.subarray(0, small.length - 30));
    expect((await fwup(['-V', '--framing', '-i', cut])).frames).toEqual([
      'OK 0 "Valid archive without a signature\\n"',
    ]);
    const apply = await fwup([
      '-a',
      '--framing',
      '-i',
      cut,
      '-d',
      join(dir, 'no-directory.img'),
      '-t',
      'upgrade',
    ]);
    expect(apply.frames.slice(-2)).toEqual(['PR 100', 'OK 0 ""']);
  });
});
