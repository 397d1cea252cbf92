// The archive writer against the real archives fwup 1.16.0 made (fixtures/fwup-ab/): the same meta.conf text,
// and the same zip layout around the deflated data.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  abFixtures,
  buildFwArchive,
  type FwCall,
  formatMetaConf,
  type MetaConfSpec,
} from '../src/fixtures/index.js';
import { fakeFwupPath } from '../src/index.js';
import { entryData, localEntries } from './support/zip-entries.js';

const dir = mkdtempSync(join(tmpdir(), 'fw-archive-writer-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const env = (name: string, value: string): FwCall => ['uboot_setenv', 'uboot-env', name, value];
const slotKeys = (slot: 'a' | 'b', version: string): FwCall[] => [
  // biome-ignore lint/suspicious/noTemplateCurlyInString: a meta.conf variable fwup expands at apply time
  env(`${slot}.nerves_fw_uuid`, '${FWUP_META_UUID}'),
  env(`${slot}.nerves_fw_product`, 'Acme Widget'),
  env(`${slot}.nerves_fw_version`, version),
  env(`${slot}.nerves_fw_platform`, 'acme-board'),
  env(`${slot}.nerves_fw_architecture`, 'x86_64'),
  env(`${slot}.nerves_fw_author`, 'Bars Check'),
];
const ubootEnv = [{ name: 'uboot-env', blockOffset: 16, blockCount: 16 }];

/** fixtures/fwup-ab/ab.conf, written as a spec. */
function abSpec(version: string, rootfs: Buffer): MetaConfSpec {
  const upgrade = (slot: 'a' | 'b', running: 'a' | 'b', offset: string) => ({
    name: `upgrade.${slot}`,
    requirements: [['require-uboot-variable', 'uboot-env', 'nerves_fw_active', running]],
    onInit: [
      ['uboot_unsetenv', 'uboot-env', `${slot}.nerves_fw_uuid`],
      env(`${slot}.nerves_fw_validated`, '0'),
    ],
    onFinish: [
      ...slotKeys(slot, version),
      env('nerves_fw_validated', '0'),
      env('upgrade_available', '1'),
      env('bootcount', '0'),
      env('nerves_fw_active', slot),
    ],
    onResource: [['rootfs.img', [['raw_write', offset]]]] as const,
  });
  return {
    meta: {
      'meta-product': 'Acme Widget',
      'meta-description': 'A/B acceptance firmware',
      'meta-version': version,
      'meta-platform': 'acme-board',
      'meta-architecture': 'x86_64',
      'meta-author': 'Bars Check',
    },
    resources: [{ name: 'rootfs.img', data: rootfs }],
    tasks: [
      {
        name: 'complete',
        onInit: [
          ['uboot_clearenv', 'uboot-env'],
          env('nerves_fw_active', 'a'),
          env('nerves_fw_validated', '1'),
          env('a.nerves_fw_validated', '1'),
          env('upgrade_available', '0'),
          env('bootcount', '0'),
          env('bootlimit', '1'),
          ...slotKeys('a', version),
        ],
        onResource: [['rootfs.img', [['raw_write', '2048']]]],
      },
      upgrade('a', 'b', '2048'),
      upgrade('b', 'a', '2176'),
      {
        name: 'upgrade.wrongplatform',
        onInit: [['error', 'no upgrade task matched: nerves_fw_active is neither a nor b']],
      },
    ],
    ubootEnvironments: ubootEnv,
  };
}

/** fixtures/fwup-ab/ops.conf, written as a spec. */
const opsSpec: MetaConfSpec = {
  meta: { 'meta-product': 'Acme Widget ops', 'meta-version': '1' },
  tasks: [
    ...(['a', 'b'] as const).map((slot) => ({
      name: `validate.${slot}`,
      requirements: [['require-uboot-variable', 'uboot-env', 'nerves_fw_active', slot]],
      onInit: [
        env('nerves_fw_validated', '1'),
        env(`${slot}.nerves_fw_validated`, '1'),
        env('upgrade_available', '0'),
        env('bootcount', '0'),
      ],
    })),
    ...(['a', 'b'] as const).map((slot) => ({
      name: `revert.${slot}`,
      requirements: [['require-uboot-variable', 'uboot-env', 'nerves_fw_active', slot]],
      onInit: [
        env('nerves_fw_active', slot === 'a' ? 'b' : 'a'),
        env('upgrade_available', '0'),
        env('nerves_fw_validated', '1'),
      ],
    })),
  ],
  ubootEnvironments: ubootEnv,
};

/** Every zip record outside the entries' data, with the fields that follow from the deflated sizes zeroed. */
function zipRecords(archive: Buffer): string[] {
  const { entries, directoryAt } = localEntries(archive);
  const records: string[] = [];
  for (const entry of entries) {
    const descriptor = Buffer.from(entry.descriptor);
    if (entry.method === 8) descriptor.writeUInt32LE(0, 8);
    records.push(`local ${entry.header.toString('hex')}`, `descriptor ${descriptor.toString('hex')}`);
  }
  let at = directoryAt;
  while (archive.readUInt32LE(at) === 0x02014b50) {
    const end =
      at + 46 + archive.readUInt16LE(at + 28) + archive.readUInt16LE(at + 30) + archive.readUInt16LE(at + 32);
    const central = Buffer.from(archive.subarray(at, end));
    if (central.readUInt16LE(10) === 8) central.writeUInt32LE(0, 20);
    central.writeUInt32LE(0, 42);
    records.push(`central ${central.toString('hex')}`);
    at = end;
  }
  const end = Buffer.from(archive.subarray(at));
  end.writeUInt32LE(0, 12);
  end.writeUInt32LE(0, 16);
  records.push(`end ${end.toString('hex')}`);
  return records;
}

describe('formatMetaConf', () => {
  for (const [label, file, spec] of [
    ['ab-v1.fw', abFixtures.v1Firmware, abSpec('1.0.0', readFileSync(abFixtures.rootfsV1))],
    ['ab-v2.fw', abFixtures.v2Firmware, abSpec('2.0.0', readFileSync(abFixtures.rootfsV2))],
    ['ops.fw', abFixtures.opsFirmware, opsSpec],
  ] as const) {
    it(`writes the meta.conf of ${label} byte for byte`, () => {
      expect(formatMetaConf(spec)).toBe(entryData(readFileSync(file), 'meta.conf').toString('latin1'));
    });
  }
});

describe('buildFwArchive', () => {
  const rootfs = readFileSync(abFixtures.rootfsV1);
  const metaConf = formatMetaConf(abSpec('1.0.0', rootfs));
  const real = readFileSync(abFixtures.v1Firmware);
  const built = buildFwArchive({
    metaConf,
    resources: [{ name: 'rootfs.img', data: rootfs }],
    signingKey: readFileSync(abFixtures.privateKey, 'latin1'),
    creationTime: 1767225600,
  });

  it('lays out every header, descriptor and directory record as fwup did for ab-v1.fw', () => {
    expect(zipRecords(built)).toEqual(zipRecords(real));
  });

  it('writes the same signature entry, so the real public key verifies it', () => {
    expect(entryData(built, 'meta.conf.ed25519').equals(entryData(real, 'meta.conf.ed25519'))).toBe(true);
    expect(entryData(built, 'data/rootfs.img').equals(rootfs)).toBe(true);
    const path = join(dir, 'rebuilt-v1.fw');
    writeFileSync(path, built);
    const verify = execFileSync(
      process.execPath,
      [fakeFwupPath, '-V', '-i', path, '-p', abFixtures.publicKey],
      {
        encoding: 'utf8',
      },
    );
    expect(verify).toBe('Valid archive with a good signature\n');
    const uuid = execFileSync(
      process.execPath,
      [fakeFwupPath, '-m', '-i', path, '--metadata-key', 'meta-uuid'],
      {
        encoding: 'utf8',
      },
    );
    expect(uuid).toBe('002b2a90-00ba-55a1-0d52-88211ea560c8\n');
  });
});
