// A firmware version NervesHub cannot parse as SemVer: a warning at start and in `check`, and, once a deployment
// group of the device's platform and architecture has a version condition, the join crash explained. `check` is
// the binary; `run` is the daemon in the test process (support/in-process.ts).
import { describe, expect, it } from 'vitest';
import { createDevice, startDaemon, useTestServer } from './support/harness.js';
import { runInProcess } from './support/in-process.js';

const e2e = useTestServer('daemon-fw-version-', ['small-signed.fw']);

const WARNING = 'nerves_fw_version "1.0" is not a SemVer 2.0.0 version (MAJOR.MINOR.PATCH, e.g. "1.4.0")';

function deviceOnVersion(identifier: string, version: string) {
  return createDevice(e2e.server, e2e.root, identifier, { version });
}

describe('a firmware version that is not SemVer', () => {
  it('is a warning in `check` and at start; the join works while no group has a version condition', async () => {
    const device = await deviceOnVersion('loose-version', '1.0');
    const check = startDaemon(['check', '--config', device.configFile]);
    expect((await check.waitForExit()).code).toBe(0);
    expect(check.output()).toContain(`warn ${WARNING}`);
    const daemon = await runInProcess(device);
    // The first join was the check's.
    await e2e.server.waitForJoin(device.identifier, { count: 2 });
    daemon.stop();
    await daemon.waitForExit();
    expect(daemon.output()).toContain(`WARN  ${WARNING}`);
  });

  it('explains the crashed join once a group of its platform has a version condition', async () => {
    const device = await deviceOnVersion('crashed-version', '1.0');
    e2e.server.createDeployment({
      firmwareId: e2e.firmware('small-signed.fw').id,
      devices: [device.identifier],
      versionCondition: '>= 0.1.0',
    });
    const check = startDaemon(['check', '--config', device.configFile]);
    expect((await check.waitForExit()).code).toBe(69);
    expect(check.output()).toMatch(
      /could not join at .*: join of "device" refused with status "error"; nerves_fw_version "1\.0" is not a SemVer/,
    );
    const daemon = await runInProcess(device);
    await daemon.waitForOutput(/join failed/);
    daemon.stop();
    await daemon.waitForExit();
    expect(daemon.output()).toContain(
      `join failed: join of "device" refused with status "error"; ${WARNING}`,
    );
  });
});
