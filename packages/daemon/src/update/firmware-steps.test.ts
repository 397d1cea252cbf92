import { existsSync, mkdtempSync, readdirSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../config/load.js';
import { createLogger } from '../log/logger.js';
import { type FirmwareStepsOptions, firmwareSteps } from './firmware-steps.js';

const dir = mkdtempSync(join(tmpdir(), 'firmware-steps-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The descriptors of this process still open on `path` after it was deleted. */
const heldOpen = (path: string) =>
  readdirSync('/proc/self/fd').filter((fd) => {
    try {
      return readlinkSync(`/proc/self/fd/${fd}`) === `${path} (deleted)`;
    } catch {
      return false;
    }
  });

const config = parseConfig(
  [
    'uri = "wss://devices.example.com/socket/websocket"',
    `data_dir = "${dir}"`,
    '[auth]',
    'method = "mtls"',
    'cert_file = "/etc/nerves-hub-link/cert.pem"',
    'key_file = "/etc/nerves-hub-link/key.pem"',
  ].join('\n'),
  '/etc/nerves-hub-link/config.toml',
).config;

function steps() {
  return firmwareSteps({
    config,
    devpath: '/dev/null',
    ca: [],
    proxy: { routeFor: () => undefined } as unknown as FirmwareStepsOptions['proxy'],
    publicKeys: () => [],
    logger: createLogger({ stream: { write: () => true } as unknown as NodeJS.WritableStream }),
  });
}

describe('firmwareSteps: discard', () => {
  it('removes the name before it resolves, and frees the file in the background, leaving nothing open', async () => {
    const path = join(dir, 'firmware.fw');
    writeFileSync(path, Buffer.alloc(4 * 1024 * 1024, 1));
    await steps().discard(path);
    expect(existsSync(path)).toBe(false);
    for (let i = 0; i < 200 && heldOpen(path).length > 0; i++) await sleep(5);
    expect(heldOpen(path)).toEqual([]);
  });

  it('takes a file that is already gone', async () => {
    await expect(steps().discard(join(dir, 'never-there.fw'))).resolves.toBeUndefined();
  });
});
