// A server that floods the device channel with events of made-up names: the real device session against the
// test-server, in this process. The log gets a few lines and one that sums up the rest, and the channel keeps
// working: an `identify` sent after the flood is handled, and the connection stays up across heartbeats.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { DeviceSession } from '../src/link/device-session.js';
import { buildJoinParams } from '../src/link/join-params.js';
import { UNKNOWN_LINES_PER_WINDOW } from '../src/link/unknown-events.js';
import { RUNNING_UUID, useTestServer } from './support/harness.js';

const e2e = useTestServer('daemon-unknown-events-', []);
// The server pushes from this same process, so its own sending holds up the heartbeats of a far bigger flood;
// 200,000 names are counted in src/link/unknown-events.test.ts.
const FLOOD = 50_000;

describe('a flood of unknown server events', () => {
  it(`${FLOOD} distinct names: ${UNKNOWN_LINES_PER_WINDOW} lines in the log, and the channel keeps working`, async () => {
    const identifier = 'unknown-flood';
    const cert = await e2e.server.issueDeviceCertificate(identifier);
    const lines: string[] = [];
    const log = (line: string) => lines.push(line);
    let identified = 0;
    const session = new DeviceSession({
      url: e2e.server.mtlsUrl,
      socket: {
        tls: {
          ca: e2e.server.ca.certPem,
          cert: readFileSync(cert.certFile),
          key: readFileSync(cert.keyFile),
        },
        heartbeatIntervalMs: 1_000,
      },
      joinParams: () =>
        buildJoinParams({
          firmware: {
            nerves_fw_uuid: RUNNING_UUID,
            nerves_fw_product: 'demo',
            nerves_fw_version: '1.0.0',
            nerves_fw_platform: 'host',
            nerves_fw_architecture: 'x86_64',
          },
          fwupVersion: '1.16.0',
          currentlyDownloadingUuid: null,
          firmwareValidated: true,
          autoRevertDetected: false,
          requestFwupPublicKeys: false,
        }),
      handlers: {
        update() {},
        reboot() {},
        identify: () => {
          identified++;
        },
        fwupPublicKeys() {},
      },
      logger: { debug() {}, info: log, warn: log, error: log },
    });
    try {
      await session.start();
      for (let i = 0; i < FLOOD; i++) e2e.server.push(identifier, `made-up-${i}`, {});
      e2e.server.push(identifier, 'identify', {});
      for (let i = 0; i < 600 && identified === 0; i++)
        await new Promise((resolve) => setTimeout(resolve, 50));
      expect(identified).toBe(1);
      // Two heartbeats later the connection is still the first one.
      await new Promise((resolve) => setTimeout(resolve, 2_500));
      const ignoring = lines.filter((line) => line.startsWith('ignoring "made-up-'));
      expect(ignoring).toHaveLength(UNKNOWN_LINES_PER_WINDOW);
      expect(lines.filter((line) => /^disconnected|lost the device channel/.test(line))).toEqual([]);
      expect(lines.length).toBeLessThan(20);
    } finally {
      await session.close();
    }
  }, 60_000);
});
