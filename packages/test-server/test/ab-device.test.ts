// The A/B test device: factory flashing with the fake fwup, the environment through the real libubootenv tools,
// and the boot step that stands for U-Boot's boot counting.
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { fakeFwupPath } from '../src/fake-fwup-path.js';
import { abFixtures } from '../src/fixtures/index.js';
import { abDeviceUnavailable, createAbDevice } from '../src/testing/ab-device.js';

const run = promisify(execFile);
const unavailable = abDeviceUnavailable();
const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

async function device() {
  const dir = mkdtempSync(join(tmpdir(), 'ab-device-'));
  dirs.push(dir);
  return createAbDevice(dir);
}

async function fwup(disk: string, archive: string, task: string): Promise<void> {
  const args = ['-a', '-d', disk, '-i', archive, '-t', task, '-U', '-q'];
  if (archive !== abFixtures.opsFirmware) args.push('-p', abFixtures.publicKey);
  await run(process.execPath, [fakeFwupPath, ...args]);
}

describe('an A/B device', () => {
  // Skipped with the reason where the tools are missing; CI installs them, so there a missing tool fails.
  beforeEach((context) => context.skip(unavailable !== undefined && !process.env.CI, unavailable));

  it('comes from the factory on slot a, validated, with a boot limit of 1', async () => {
    const ab = await device();
    expect(await ab.env()).toMatchObject({
      nerves_fw_active: 'a',
      'a.nerves_fw_uuid': '002b2a90-00ba-55a1-0d52-88211ea560c8',
      'a.nerves_fw_version': '1.0.0',
      upgrade_available: '0',
      bootlimit: '1',
    });
    expect(await ab.boot()).toEqual({ slot: 'a', bootcount: 0, fellBack: false });
  });

  it('boots an upgraded slot once, then falls back when it was never validated', async () => {
    const ab = await device();
    await fwup(ab.disk, abFixtures.v2Firmware, 'upgrade');
    expect(await ab.boot()).toEqual({ slot: 'b', bootcount: 1, fellBack: false });
    expect(await ab.boot()).toEqual({ slot: 'a', bootcount: 2, fellBack: true });
    const env = await ab.env();
    expect(env).toMatchObject({
      nerves_fw_active: 'a',
      upgrade_available: '0',
      'b.nerves_fw_validated': '0',
    });
    expect(await ab.boot()).toEqual({ slot: 'a', bootcount: 2, fellBack: false });
  });

  it('stops counting once the new slot is validated', async () => {
    const ab = await device();
    await fwup(ab.disk, abFixtures.v2Firmware, 'upgrade');
    expect((await ab.boot()).slot).toBe('b');
    await fwup(ab.disk, abFixtures.opsFirmware, 'validate');
    expect(await ab.boot()).toEqual({ slot: 'b', bootcount: 0, fellBack: false });
    expect(await ab.boot()).toEqual({ slot: 'b', bootcount: 0, fellBack: false });
  });

  it('writes several variables at once with fw_setenv', async () => {
    const ab = await device();
    await ab.setEnv({ bootcount: '7', extra: 'a b=c' });
    expect(await ab.env()).toMatchObject({ bootcount: '7', extra: 'a b=c' });
  });
});
