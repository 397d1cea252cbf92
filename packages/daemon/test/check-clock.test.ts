// `check` on a device whose clock is off: the first join is refused (401), the Date header of the refusal teaches
// the server's time, and one more attempt on that time gets in, as `run` would on its next attempt.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { createTlsOptions } from '@nerves-hub-link/auth';
import { deviceConfig, fakeFwupPath } from '@nerves-hub-link/test-server';
import { describe, expect, it } from 'vitest';
import { joinWithClockRetry } from '../src/cli/commands/check.js';
import { parseConfig } from '../src/config/load.js';
import { ExitError } from '../src/errors/daemon-errors.js';
import { buildConnection } from '../src/link/connection.js';
import { createLogger } from '../src/log/logger.js';
import { useTestServer } from './support/harness.js';

const e2e = useTestServer('daemon-check-clock-', []);

const FIVE_MINUTES = 5 * 60_000;

async function sharedSecretDevice(identifier: string, options: { clockOffsetMs: number; secret?: string }) {
  e2e.server.addDeviceKey(`nhd_${identifier}`, `secret-of-${identifier}`, identifier);
  const secretFile = join(e2e.root, `${identifier}.secret`);
  writeFileSync(secretFile, options.secret ?? `secret-of-${identifier}`, { mode: 0o600 });
  const { config } = parseConfig(
    deviceConfig({
      uri: e2e.server.sharedSecretUrl,
      deviceDir: join(e2e.root, identifier),
      identifier,
      auth: { method: 'shared_secret', key: `nhd_${identifier}`, secretFile },
      caFile: e2e.server.ca.certFile,
      fwupPath: fakeFwupPath,
      signingKeys: true,
    }),
    join(e2e.root, `${identifier}.toml`),
  );
  const tls = await createTlsOptions({ caFile: e2e.server.ca.certFile, tlsVersion: 'TLSv1.2' });
  const logs = new PassThrough();
  const logger = createLogger({ stream: logs });
  const connection = await buildConnection(
    config,
    identifier,
    tls,
    logger,
    () => Date.now() + options.clockOffsetMs,
  );
  const lines: string[] = [];
  return {
    join: () =>
      joinWithClockRetry(connection, { device_api_version: '2.0.0' }, config.uri, (line) => lines.push(line)),
    lines,
  };
}

describe('check with a device clock that is off', () => {
  it('five minutes behind: refused once, learns the server time from the 401, joins on the second attempt', async () => {
    const device = await sharedSecretDevice('clock-behind', { clockOffsetMs: -FIVE_MINUTES });
    await device.join();
    expect(device.lines).toEqual([
      "the server refused the first attempt and told its time; trying again on the server's clock",
    ]);
    expect(e2e.server.device('clock-behind').joins).toHaveLength(1);
  });

  it('a right clock and a wrong secret: no retry, exit 69 with the reason', async () => {
    const device = await sharedSecretDevice('wrong-secret', { clockOffsetMs: 0, secret: 'not-the-secret' });
    const error = await device.join().catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(ExitError);
    expect((error as ExitError).exitCode).toBe(69);
    expect((error as Error).message).toMatch(/could not join at .*: .*401/);
    expect(device.lines).toEqual([]);
  });

  it('a wrong clock and a wrong secret: one retry only, then exit 69', async () => {
    const device = await sharedSecretDevice('both-wrong', {
      clockOffsetMs: -FIVE_MINUTES,
      secret: 'not-the-secret',
    });
    const error = await device.join().catch((caught: unknown) => caught);
    expect((error as ExitError).exitCode).toBe(69);
    expect(device.lines).toHaveLength(1);
  });
});
