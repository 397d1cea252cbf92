// The shipped example config as a newcomer reads it: the README shows it as it is, and the metadata file form its
// comment shows is one the daemon reads.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readFirmwareMetadata } from '@nerves-hub-link/firmware';
import { afterAll, expect, it } from 'vitest';

const example = readFileSync(new URL('../examples/config.toml', import.meta.url), 'utf8');
const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
const dir = mkdtempSync(join(tmpdir(), 'example-config-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

it('is in the README as it is shipped', () => {
  const shown = /```toml\n(#:schema[\s\S]*?)```/.exec(readme)?.[1];
  expect(shown).toBe(example);
});

it('shows a metadata file the daemon reads: the active slot, its prefixed keys, the devpath', async () => {
  const metadata = example.slice(example.indexOf('[metadata]'), example.indexOf('[commands]'));
  const lines = [...metadata.matchAll(/^# {3}(\S+=\S+)$/gm)].map((match) => match[1]!);
  expect(lines[0]).toBe('nerves_fw_active=a');
  const file = join(dir, 'firmware.env');
  writeFileSync(file, `${lines.join('\n')}\n`);
  const read = await readFirmwareMetadata({ file });
  expect(read.params).toMatchObject({
    nerves_fw_uuid: '0a6f1b4e-0000-4000-8000-000000000001',
    nerves_fw_product: 'my-product',
    nerves_fw_version: '1.0.0',
    nerves_fw_platform: 'rpi4',
    nerves_fw_architecture: 'arm',
  });
  expect(read.devpath).toBe('/dev/mmcblk0');
  expect(read.firmwareValidated).toBe(true);
});
