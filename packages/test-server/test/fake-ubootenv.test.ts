// The fake fw_printenv and fw_setenv against Debian's libubootenv-tool 0.3.2, run side by side on copies of the
// same disk images: the same output, messages, exit codes, and the same environment block written.
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { fakeFwPrintenvPath, fakeFwSetenvPath } from '../src/fake-fwup-path.js';
import { abFixtures } from '../src/fixtures/index.js';
import { abDeviceUnavailable, createAbDevice } from '../src/testing/ab-device.js';

const unavailable = abDeviceUnavailable();
let dir: string;
let factoryDisk: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'fake-ubootenv-'));
  if (unavailable) return;
  factoryDisk = (await createAbDevice(join(dir))).disk;
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));
// Skipped with the reason where the real tools are missing; CI installs them, so there a missing tool fails.
beforeEach((context) => context.skip(unavailable !== undefined && !process.env.CI, unavailable));

let copies = 0;
/** A copy of `disk` and its fw_env.config. */
function copyOf(disk: string | 'blank'): { disk: string; config: string } {
  const name = join(dir, `copy-${++copies}.img`);
  if (disk === 'blank') {
    writeFileSync(name, '');
    truncateSync(name, 2 * 1024 * 1024);
  } else copyFileSync(disk, name);
  const config = join(dir, `copy-${copies}.config`);
  const { ubootEnvOffset, ubootEnvSize } = abFixtures.layout;
  writeFileSync(
    config,
    `# the environment\n${name} 0x${ubootEnvOffset.toString(16)} 0x${ubootEnvSize.toString(16)}\n`,
  );
  return { disk: name, config };
}

function run(program: string, args: readonly string[]) {
  const result = spawnSync(program, args, { encoding: 'utf8' });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

const envBlock = (disk: string) => {
  const { ubootEnvOffset, ubootEnvSize } = abFixtures.layout;
  return readFileSync(disk).subarray(ubootEnvOffset, ubootEnvOffset + ubootEnvSize);
};

describe('fake fw_printenv', () => {
  it.each([
    ['every variable', []],
    ['named ones, one of them unset', ['bootcount', 'nerves_fw_active', 'no_such_name']],
    ['values only', ['-n', 'a.nerves_fw_uuid']],
  ])('prints %s as the real one does', (_, args) => {
    const target = copyOf(factoryDisk);
    const real = run('fw_printenv', ['-c', target.config, ...args]);
    expect(real.status).toBe(0);
    expect(run(fakeFwPrintenvPath, ['-c', target.config, ...args])).toEqual(real);
  });

  it('says what the real one says of a blank environment and of a missing config', () => {
    const blank = copyOf('blank');
    const real = run('fw_printenv', ['-c', blank.config]);
    expect(real.status).toBe(243);
    expect(run(fakeFwPrintenvPath, ['-c', blank.config])).toEqual(real);
    const missing = join(dir, 'no-such.config');
    expect(run(fakeFwPrintenvPath, ['-c', missing])).toEqual(run('fw_printenv', ['-c', missing]));
  });
});

describe('fake fw_setenv', () => {
  it('writes a variable in the same block as the real one', () => {
    const real = copyOf(factoryDisk);
    const fake = copyOf(factoryDisk);
    expect(run('fw_setenv', ['-c', real.config, 'upgrade_available', '1']).status).toBe(0);
    expect(run(fakeFwSetenvPath, ['-c', fake.config, 'upgrade_available', '1']).status).toBe(0);
    expect(envBlock(fake.disk).equals(envBlock(real.disk))).toBe(true);
  });

  it.each([
    ['the first word of a value in several words', ['note', 'a', 'b  c']],
    ['a removal', ['bootlimit']],
  ])('keeps %s as the real one does, as the real fw_printenv reads it', (_, args) => {
    const real = copyOf(factoryDisk);
    const fake = copyOf(factoryDisk);
    expect(run('fw_setenv', ['-c', real.config, ...args]).status).toBe(0);
    expect(run(fakeFwSetenvPath, ['-c', fake.config, ...args]).status).toBe(0);
    const read = run('fw_printenv', ['-c', fake.config]);
    expect(read).toEqual(run('fw_printenv', ['-c', real.config]));
    if (args.length === 1) expect(read.stdout).not.toContain(`\n${args[0]}=`);
  });

  it('reads a script of name=value lines as the real one does', () => {
    const script = join(dir, 'script');
    writeFileSync(script, '# set two, drop one\nbootcount=3\nnerves_fw_active=b\nbootlimit=\nignored line\n');
    const real = copyOf(factoryDisk);
    const fake = copyOf(factoryDisk);
    expect(run('fw_setenv', ['-c', real.config, '-s', script]).status).toBe(0);
    expect(run(fakeFwSetenvPath, ['-c', fake.config, '-s', script]).status).toBe(0);
    expect(run('fw_printenv', ['-c', fake.config])).toEqual(run('fw_printenv', ['-c', real.config]));
  });

  it("refuses a blank environment with the real one's message and exit code", () => {
    const real = copyOf('blank');
    const fake = copyOf('blank');
    const expected = run('fw_setenv', ['-c', real.config, 'x', '1']);
    expect(expected.status).toBe(243);
    expect(run(fakeFwSetenvPath, ['-c', fake.config, 'x', '1'])).toEqual(expected);
  });
});
