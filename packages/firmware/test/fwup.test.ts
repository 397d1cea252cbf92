// verify / apply / version with a fwup executable (the test-server's fake, same contract as fwup 1.16.0).
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fakeFwupPath } from '@nerves-hub-link/test-server';
import { smallFixtures } from '@nerves-hub-link/test-server/fixtures';
import { runningMembers } from '@nerves-hub-link/test-server/testing';
import { afterAll, describe, expect, it } from 'vitest';
import { applyFirmware, fwupVersion, verifyFirmware } from '../src/index.js';

const fixture = (name: string) => join(smallFixtures.dir, name);
const key = readFileSync(fixture('fwup-key.pub'), 'utf8').trim();
const wrongKey = readFileSync(fixture('wrong-key.pub'), 'utf8').trim();
const dir = mkdtempSync(join(tmpdir(), 'fwup-test-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A fwup that starts a child and hangs (as a real one reading a large archive from slow storage): its pid file. */
function hangingFwup(name: string): { path: string; pidFile: string } {
  const path = join(dir, `${name}.sh`);
  const pidFile = join(dir, `${name}.pid`);
  writeFileSync(path, `#!/bin/sh\necho $$ > ${pidFile}\nsleep 30 &\nwait\n`);
  chmodSync(path, 0o755);
  return { path, pidFile };
}

async function groupOf(pidFile: string): Promise<number> {
  for (let i = 0; i < 200 && !existsSync(pidFile); i++) await sleep(10);
  const pgid = Number(readFileSync(pidFile, 'utf8'));
  for (let i = 0; i < 200 && runningMembers(pgid).length < 2; i++) await sleep(10);
  expect(runningMembers(pgid)).toHaveLength(2);
  return pgid;
}

describe('fwupVersion', () => {
  it('reads the version', async () => {
    expect(await fwupVersion(fakeFwupPath)).toBe('1.16.0');
  });
  it('says clearly when fwup is missing', async () => {
    await expect(fwupVersion('/nonexistent/fwup')).rejects.toMatchObject({ code: 'FW_FWUP_NOT_FOUND' });
  });
  it('stops fwup and what it started when the signal is aborted', async () => {
    const fwup = hangingFwup('version-hangs');
    const stop = new AbortController();
    const outcome = fwupVersion(fwup.path, { signal: stop.signal }).catch((error) => error);
    const pgid = await groupOf(fwup.pidFile);
    const stoppedAt = performance.now();
    stop.abort();
    expect(await outcome).toMatchObject({ code: 'FW_ABORTED' });
    expect(performance.now() - stoppedAt).toBeLessThan(1_500);
    expect(runningMembers(pgid)).toEqual([]);
  });
});

describe('verifyFirmware', () => {
  it('stops fwup -V and what it started when the signal is aborted', async () => {
    const fwup = hangingFwup('verify-hangs');
    const stop = new AbortController();
    const outcome = verifyFirmware({
      fwupPath: fwup.path,
      file: fixture('small.fw'),
      publicKeys: [],
      signal: stop.signal,
    }).catch((error) => error);
    const pgid = await groupOf(fwup.pidFile);
    const stoppedAt = performance.now();
    stop.abort();
    expect(await outcome).toMatchObject({ code: 'FW_ABORTED' });
    expect(performance.now() - stoppedAt).toBeLessThan(1_500);
    for (let i = 0; i < 100 && runningMembers(pgid).length > 0; i++) await sleep(10);
    expect(runningMembers(pgid)).toEqual([]);
    // Under a signal aborted already, fwup does not even start.
    await expect(
      verifyFirmware({ fwupPath: fwup.path, file: fixture('small.fw'), publicKeys: [], signal: stop.signal }),
    ).rejects.toMatchObject({ code: 'FW_ABORTED' });
  });

  it('accepts a good archive, signed or not', async () => {
    expect(
      await verifyFirmware({ fwupPath: fakeFwupPath, file: fixture('small.fw'), publicKeys: [] }),
    ).toContain('Valid');
    expect(
      await verifyFirmware({ fwupPath: fakeFwupPath, file: fixture('small-signed.fw'), publicKeys: [key] }),
    ).toBe('Valid archive with a good signature');
  });

  for (const [label, file, keys, message] of [
    ['a corrupt payload', 'small-corrupt.fw', [], 'ZIP bad CRC: 0x390e150b should be 0x4d9fafdc'],
    [
      'a tampered payload',
      'small-signed-tampered.fw',
      [key],
      'Detected blake2b digest mismatch for system.img',
    ],
    [
      'the wrong key',
      'small-signed.fw',
      [wrongKey],
      "Firmware archive's meta.conf fails digital signature verification.",
    ],
    ['an unsigned archive when keys are set', 'small.fw', [key], 'Expecting signed firmware archive.'],
  ] as const) {
    it(`rejects ${label} with fwup's message`, async () => {
      const error = await verifyFirmware({
        fwupPath: fakeFwupPath,
        file: fixture(file),
        publicKeys: keys,
      }).catch((e) => e);
      expect(error.code).toBe('FW_FWUP_VERIFY_FAILED');
      expect(error.fwupMessage).toBe(message);
    });
  }
});

describe('applyFirmware', () => {
  it('writes the firmware and reports progress and warnings', async () => {
    const devpath = join(dir, 'ok.img');
    const progress: number[] = [];
    const warnings: string[] = [];
    await applyFirmware({
      fwupPath: fakeFwupPath,
      file: fixture('small-signed.fw'),
      devpath,
      publicKeys: [key],
      onProgress: (value) => progress.push(value),
      onWarning: (message) => warnings.push(message),
    });
    expect(statSync(devpath).size).toBe(262144);
    expect(progress[0]).toBe(0);
    expect(progress.at(-1)).toBe(100);
    expect(warnings).toEqual(['upgrade: done']);
  });

  it('fails with fwup error text and exit code', async () => {
    const error = await applyFirmware({
      fwupPath: fakeFwupPath,
      file: fixture('small.fw'),
      devpath: join(dir, 'task.img'),
      task: 'nosuchtask',
      publicKeys: [],
    }).catch((e) => e);
    expect(error.code).toBe('FW_FWUP_FAILED');
    expect(error.exitCode).toBe(1);
    expect(error.fwupMessage).toContain("Couldn't find applicable task 'nosuchtask'");
  });

  it('treats an exit without OK as a failure and keeps unframed output for the reason', async () => {
    const broken = join(dir, 'broken-fwup.sh');
    writeFileSync(broken, '#!/bin/sh\necho "Usage: fwup ..."\nexit 1\n');
    chmodSync(broken, 0o755);
    const error = await applyFirmware({
      fwupPath: broken,
      file: fixture('small.fw'),
      devpath: join(dir, 'b.img'),
      publicKeys: [],
    }).catch((e) => e);
    expect(error.code).toBe('FW_FWUP_FAILED');
    expect(error.fwupMessage).toContain('fwup exited with status 1');
  });

  it('passes extra options after the built-in ones and gives fwup the environment it is passed', async () => {
    // A wrapper that records what fwup would get, then runs the fake without the option it does not know.
    const wrapper = join(dir, 'recording-fwup.sh');
    const record = join(dir, 'recorded.txt');
    writeFileSync(
      wrapper,
      [
        '#!/bin/sh',
        `printf '%s\\n' "$@" "env=$FWUP_TEST_VALUE" "path-kept=\${PATH:+yes}" > "${record}"`,
        'for arg; do shift; [ "$arg" = "--unsafe" ] || set -- "$@" "$arg"; done',
        `exec "${process.execPath}" "${fakeFwupPath}" "$@"`,
        '',
      ].join('\n'),
    );
    chmodSync(wrapper, 0o755);
    await applyFirmware({
      fwupPath: wrapper,
      file: fixture('small-signed.fw'),
      devpath: join(dir, 'extra.img'),
      publicKeys: [key],
      extraArgs: ['--unsafe'],
      env: { ...process.env, FWUP_TEST_VALUE: 'from the config' },
    });
    const lines = readFileSync(record, 'utf8').trim().split('\n');
    expect(lines.slice(lines.indexOf('-U'), lines.indexOf('-U') + 4)).toEqual([
      '-U',
      '--unsafe',
      '--public-key',
      key,
    ]);
    expect(lines.slice(-2)).toEqual(['env=from the config', 'path-kept=yes']);
    expect(statSync(join(dir, 'extra.img')).size).toBe(262144);

    await verifyFirmware({
      fwupPath: wrapper,
      file: fixture('small-signed.fw'),
      publicKeys: [key],
      env: { PATH: process.env.PATH, FWUP_TEST_VALUE: 'verify too' },
    });
    const verifyLines = readFileSync(record, 'utf8').trim().split('\n');
    expect(verifyLines[0]).toBe('-V');
    expect(verifyLines).not.toContain('--unsafe');
    expect(verifyLines.at(-2)).toBe('env=verify too');
  });

  it('is never killed: an abort is not an option, a silent fwup is only reported', async () => {
    const slow = join(dir, 'slow-fwup.sh');
    writeFileSync(slow, `#!/bin/sh\nsleep 0.6\nexec ${process.execPath} ${fakeFwupPath} "$@"\n`);
    chmodSync(slow, 0o755);
    const hangs: number[] = [];
    await applyFirmware({
      fwupPath: slow,
      file: fixture('small.fw'),
      devpath: join(dir, 'slow.img'),
      publicKeys: [],
      hangTimeoutMs: 200,
      onHang: (ms) => hangs.push(ms),
    });
    expect(hangs.length).toBeGreaterThan(0);
    expect(statSync(join(dir, 'slow.img')).size).toBe(262144);
  });
});
