// The fake fwup on an archive of more than 8 MiB laid out as fwup writes it (test/fw-archive-writer.test.ts
// checks that layout against real archives): data descriptors after every entry, no sizes in the local headers,
// deflate streams of several MiB that only end where the stream says so. Generated here, never committed.
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { abFixtures, buildFwArchive, formatMetaConf } from '../src/fixtures/index.js';
import { fakeFwupPath } from '../src/index.js';
import { decodeFrames } from './support/frames.js';
import { libubootenvTools } from './support/libubootenv.js';

const MiB = 1024 * 1024;
const SLOT_BLOCK = 4096;
const dir = mkdtempSync(join(tmpdir(), 'fake-fwup-large-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const tools = libubootenvTools();

/** A root filesystem as Nerves builds them is mostly incompressible (squashfs); add zeros and text for the rest. */
function rootfs(): Buffer {
  const text = Buffer.from(
    Array.from({ length: 40_000 }, (_, i) => `/usr/lib/file-${i % 977}.so ${i * 31}\n`).join(''),
  );
  return Buffer.concat([randomBytes(8 * MiB), Buffer.alloc(MiB), text]);
}

const data = rootfs();
const metaConf = formatMetaConf({
  meta: { 'meta-product': 'Large', 'meta-version': '3.0.0', 'meta-platform': 'acme-board' },
  resources: [{ name: 'rootfs.img', data }],
  tasks: [
    {
      name: 'complete',
      onInit: [
        ['uboot_clearenv', 'uboot-env'],
        ['uboot_setenv', 'uboot-env', 'nerves_fw_active', 'a'],
      ],
      onResource: [['rootfs.img', [['raw_write', String(SLOT_BLOCK)]]]],
      onFinish: [
        // biome-ignore lint/suspicious/noTemplateCurlyInString: a meta.conf variable fwup expands at apply time
        ['uboot_setenv', 'uboot-env', 'a.nerves_fw_uuid', '${FWUP_META_UUID}'],
        ['info', 'complete: done'],
      ],
    },
  ],
  ubootEnvironments: [{ name: 'uboot-env', blockOffset: 16, blockCount: 16 }],
});
const signed = join(dir, 'large-signed.fw');
const damaged = join(dir, 'large-damaged.fw');
let damagedData: Buffer;

beforeAll(() => {
  const archive = buildFwArchive({
    metaConf,
    resources: [{ name: 'rootfs.img', data }],
    signingKey: readFileSync(abFixtures.privateKey, 'latin1'),
  });
  writeFileSync(signed, archive);
  // One byte flipped in the random part, where the deflate stream stores the data as it is: the byte found
  // with the 64 bytes around it in the data is the one the flip changes.
  let at = archive.indexOf('data/rootfs.img') + 4 * MiB;
  let inData = data.indexOf(archive.subarray(at - 64, at + 64));
  while (inData < 0) {
    at += 997;
    inData = data.indexOf(archive.subarray(at - 64, at + 64));
  }
  const copy = Buffer.from(archive);
  copy[at]! ^= 0xff;
  writeFileSync(damaged, copy);
  damagedData = Buffer.from(data);
  damagedData[inData + 64]! ^= 0xff;
});

function fwup(args: string[]): Promise<{ code: number; stdout: Buffer; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [fakeFwupPath, ...args],
      { encoding: 'buffer', maxBuffer: 64 * MiB },
      (error, stdout, stderr) => {
        resolve({
          code: error ? Number((error as { code?: number }).code) : 0,
          stdout,
          stderr: stderr.toString(),
        });
      },
    );
  });
}

describe('fake fwup on an archive of more than 8 MiB', () => {
  it('is an archive of more than 8 MiB with one deflate stream of more than 8 MiB', () => {
    expect(readFileSync(signed).length).toBeGreaterThan(8 * MiB);
  });

  it('verifies it with -V, checking the signature, the zip CRC and the BLAKE2b-256', async () => {
    const result = await fwup(['-V', '--framing', '-i', signed, '-p', abFixtures.publicKey]);
    expect(decodeFrames(result.stdout)).toEqual(['OK 0 "Valid archive with a good signature\\n"']);
    expect(result.code).toBe(0);
    expect(result.stderr).toBe('');
  });

  it('applies it with -a: every byte at the slot, progress rising to 99, the on-finish info, 100, OK', async () => {
    const disk = join(dir, 'disk.img');
    writeFileSync(disk, Buffer.alloc(2 * MiB));
    const result = await fwup([
      '-a',
      '--framing',
      '-i',
      signed,
      '-d',
      disk,
      '-t',
      'complete',
      '-p',
      abFixtures.publicKey,
      '-U',
    ]);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const frames = decodeFrames(result.stdout);
    expect(frames.slice(-3)).toEqual(['WN 0 "complete: done"', 'PR 100', 'OK 0 ""']);
    const progress = frames.slice(0, -3).map((frame) => Number(/^PR (\d+)$/.exec(frame)?.[1]));
    expect(progress[0]).toBe(0);
    expect(progress.at(-1)).toBe(99);
    expect(progress.every((value, i) => i === 0 || value > progress[i - 1]!)).toBe(true);
    const image = readFileSync(disk);
    expect(image.subarray(SLOT_BLOCK * 512, SLOT_BLOCK * 512 + data.length).equals(data)).toBe(true);
    if (!tools.missing) {
      writeFileSync(join(dir, 'fw_env.config'), `${disk} 0x2000 0x2000\n`);
      const listing = await new Promise<string>((resolve, reject) =>
        execFile(tools.path('fw_printenv'), ['-c', join(dir, 'fw_env.config')], (error, stdout) =>
          error ? reject(error) : resolve(stdout),
        ),
      );
      expect(listing).toMatch(
        /^a\.nerves_fw_uuid=[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[0-9a-f]{4}-[0-9a-f]{12}\nnerves_fw_active=a\n$/,
      );
    }
  });

  it('rejects a damaged copy with -V with the CRC message libarchive gives', async () => {
    const result = await fwup(['-V', '--framing', '-i', damaged]);
    const actual = crc32(damagedData).toString(16);
    const expected = crc32(data).toString(16);
    expect(decodeFrames(result.stdout)).toEqual([`ER 0 "ZIP bad CRC: 0x${actual} should be 0x${expected}"`]);
    expect(result.code).toBe(1);
  });

  it('fails the apply of the damaged copy late, after progress 99, as fwup does', async () => {
    const disk = join(dir, 'damaged.img');
    const result = await fwup(['-a', '--framing', '-i', damaged, '-d', disk, '-t', 'complete']);
    const frames = decodeFrames(result.stdout);
    expect(frames.slice(-2)).toEqual([
      'PR 99',
      expect.stringMatching(/^ER 0 "ZIP bad CRC: 0x[0-9a-f]+ should be 0x[0-9a-f]+"$/),
    ]);
    expect(result.code).toBe(1);
    expect(result.stderr).toBe('\n');
  });
});
