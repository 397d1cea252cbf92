import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { runningMembers } from '@nerves-hub-link/test-server/testing';
import { afterAll, describe, expect, it } from 'vitest';
import { readFirmwareMetadata } from '../src/index.js';

const dir = mkdtempSync(join(tmpdir(), 'metadata-test-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const SLOT_B = [
  'nerves_fw_active=b',
  'nerves_fw_devpath=/dev/mmcblk0',
  'a.nerves_fw_uuid=old-uuid',
  'a.nerves_fw_version=1.0.0',
  'a.nerves_fw_validated=0',
  'a.nerves_fw_platform=rpi4',
  'a.nerves_fw_architecture=arm',
  'b.nerves_fw_uuid=new-uuid',
  'b.nerves_fw_product=demo',
  'b.nerves_fw_version=1.1.0',
  'b.nerves_fw_platform=rpi4',
  'b.nerves_fw_architecture=arm',
  'b.nerves_fw_misc=a=b',
  'upgrade_available=1',
].join('\n');

describe('readFirmwareMetadata', () => {
  it('takes the active slot, strips its prefix, reads the validation and revert flags', async () => {
    const file = join(dir, 'env-b');
    writeFileSync(file, SLOT_B);
    const metadata = await readFirmwareMetadata({ file });
    expect(metadata.activeSlot).toBe('b');
    expect(metadata.params).toEqual({
      nerves_fw_uuid: 'new-uuid',
      nerves_fw_product: 'demo',
      nerves_fw_version: '1.1.0',
      nerves_fw_platform: 'rpi4',
      nerves_fw_architecture: 'arm',
      nerves_fw_misc: 'a=b',
    });
    expect(metadata.firmwareValidated).toBe(false);
    expect(metadata.autoRevertDetected).toBe(true);
    expect(metadata.devpath).toBe('/dev/mmcblk0');
  });

  it('runs a command (fw_printenv by default) and lets config values override', async () => {
    const script = join(dir, 'printenv.sh');
    writeFileSync(
      script,
      `#!/bin/sh\ncat <<'END'\n${SLOT_B.replace('upgrade_available=1', 'b.nerves_fw_validated=1')}\nEND\n`,
    );
    chmodSync(script, 0o755);
    const metadata = await readFirmwareMetadata({
      command: [script],
      values: { nerves_fw_version: '9.9.9' },
    });
    expect(metadata.params.nerves_fw_version).toBe('9.9.9');
    expect(metadata.firmwareValidated).toBe(true);
  });

  it('gives the command the environment it is passed', async () => {
    const script = join(dir, 'printenv-env.sh');
    writeFileSync(script, `#!/bin/sh\nprintf '%s\\n' "$FW_TEST_ENV"\n`);
    chmodSync(script, 0o755);
    const metadata = await readFirmwareMetadata({
      command: [script],
      env: { FW_TEST_ENV: 'nerves_fw_active=b' },
      values: {
        nerves_fw_uuid: 'u',
        nerves_fw_product: 'p',
        nerves_fw_architecture: 'a',
        nerves_fw_platform: 'p',
        nerves_fw_version: '1',
      },
    });
    expect(metadata.activeSlot).toBe('b');
  });

  it('names the missing keys and the source', async () => {
    const file = join(dir, 'env-partial');
    writeFileSync(file, 'nerves_fw_active=a\na.nerves_fw_uuid=u\n');
    const error = await readFirmwareMetadata({ file }).catch((e) => e);
    expect(error.code).toBe('FW_METADATA_INCOMPLETE');
    expect(error.message).toContain('nerves_fw_product');
    expect(error.message).toContain(file);
  });

  it('reports a missing command or file', async () => {
    await expect(readFirmwareMetadata({ command: ['/nonexistent/fw_printenv'] })).rejects.toMatchObject({
      code: 'FW_METADATA_UNAVAILABLE',
    });
    await expect(readFirmwareMetadata({ file: join(dir, 'nope') })).rejects.toMatchObject({
      code: 'FW_METADATA_UNAVAILABLE',
    });
  });

  it('stops a hanging command and every process it started, saying it timed out', async () => {
    const pidFile = join(dir, 'printenv.pid');
    const run = readFirmwareMetadata({
      command: ['sh', '-c', `echo $$ > ${pidFile}; sleep 100 & sleep 100`],
      timeoutMs: 300,
    }).catch((e) => e);
    while (!existsSync(pidFile) || readFileSync(pidFile, 'utf8').trim() === '') await sleep(10);
    const pgid = Number(readFileSync(pidFile, 'utf8'));
    for (let i = 0; i < 50 && runningMembers(pgid).length < 3; i++) await sleep(10);
    expect(runningMembers(pgid)).toHaveLength(3);
    const error = await run;
    expect(error.code).toBe('FW_METADATA_UNAVAILABLE');
    expect(error.message).toMatch(/^"sh -c echo .*" failed: timed out after 0\.3 s$/);
    expect(runningMembers(pgid)).toEqual([]);
  });

  it('leaves the validation state unknown when nothing says', async () => {
    const file = join(dir, 'env-unknown');
    writeFileSync(file, SLOT_B.replace('upgrade_available=1', ''));
    expect((await readFirmwareMetadata({ file })).firmwareValidated).toBeUndefined();
  });
});
