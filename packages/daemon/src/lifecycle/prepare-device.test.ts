import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fakeFwupPath } from '@nerves-hub-link/test-server';
import { afterAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../config/load.js';
import { ConfigError, ExitError } from '../errors/daemon-errors.js';
import { createLogger } from '../log/logger.js';
import { prepareDevice } from './prepare-device.js';

const dir = mkdtempSync(join(tmpdir(), 'nhl-prepare-device-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const quiet = createLogger({ level: 'error', stream: { write: () => true } as never });

describe('prepareDevice', () => {
  it('refuses a device with nowhere to write firmware as a config problem (78), in the words it always had', async () => {
    const file = join(dir, 'no-devpath.toml');
    const { config } = parseConfig(
      [
        'uri = "wss://hub.example/device-socket/websocket"',
        '[identity]',
        'serial = "d-1"',
        '[auth]',
        'method = "shared_secret"',
        'key = "nhp_k"',
        'secret = "s3cr3t-value"',
        '[fwup]',
        `path = "${fakeFwupPath}"`,
        '[metadata.values]',
        'nerves_fw_uuid = "u"',
        'nerves_fw_product = "p"',
        'nerves_fw_architecture = "a"',
        'nerves_fw_platform = "pl"',
        'nerves_fw_version = "1.0.0"',
      ].join('\n'),
      file,
    );
    const error = await prepareDevice(config, quiet).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(ExitError);
    expect(error).toMatchObject({ exitCode: 78, code: 'CONFIG_INVALID' });
    expect((error as ExitError).cause).toBeInstanceOf(ConfigError);
    expect((error as ExitError).message).toBe(
      'no device to write firmware to: set fwup.devpath in the config, or nerves_fw_devpath in the firmware ' +
        `metadata (config file ${file})`,
    );
  });
});
