// The single executables as a device gets them (dist/sea/nerves-hub-link-linux-<arch>, built by scripts/sea.mjs):
// each one prints its version, passes `check` against the test-server and goes through a whole deployment update.
// The arm64 one runs under qemu-user on an x86-64 machine (and natively on arm64).
//
// fwup is the test-server's fake, a node script, on the host side: the emulated daemon starts it like any
// program, and the kernel runs its interpreter (`#!/usr/bin/env node`, the host's node) natively, since qemu-user
// emulates only the process it was started with. So the daemon under test is the arm64 executable, its
// connection, TLS, download, checks and reports; the fwup it drives is the same host program the x64 tests use,
// as a device's own fwup would be a program of its own.
import { readFileSync, writeFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  createDevice,
  type Device,
  FWUP_KEY,
  RUNNING_UUID,
  statuses,
  useTestServer,
} from '../support/harness.js';
import {
  buildExecutable,
  cannotRun,
  commandFor,
  isNative,
  type NodeArch,
  runToEnd,
  start,
  VERSION,
} from './support/artifacts.js';

const e2e = useTestServer('daemon-sea-', ['small-signed.fw']);

/**
 * A device of the harness, with its quick test timings (1 s heartbeat, 1 s download stall) at the daemon's
 * defaults when the executable is emulated: everything it does takes about ten times as long under qemu-user.
 */
async function deviceFor(arch: NodeArch, identifier: string): Promise<Device> {
  const device = await createDevice(e2e.server, e2e.root, identifier);
  if (!isNative(arch)) {
    const config = readFileSync(device.configFile, 'utf8')
      .replace(/^heartbeat_interval_ms = 1000$/m, 'heartbeat_interval_ms = 30000')
      .replace(/^idle_timeout_ms = 1000$/m, 'idle_timeout_ms = 60000');
    writeFileSync(device.configFile, config);
  }
  return device;
}

/** Fetching a Node binary from the registry (the first time) and building take this long at most. */
const BUILD_TIMEOUT_MS = 180_000;
/** Under emulation a start takes seconds (x86-64 machine, arm64 executable: about 4 s to print the version). */
const EMULATED_TIMEOUT_MS = 90_000;

// Every device has its own identifier and files: the executables and their tests run side by side, so that one's
// waits (a join, `check` staying joined a moment, the emulator starting) pass while another works.
describe.concurrent('the single executables', () => {
  for (const arch of ['x64', 'arm64'] as const satisfies readonly NodeArch[]) {
    const missing = cannotRun(arch);
    if (missing) console.warn(`skipping the ${arch} single executable: ${missing}`);
    const how = isNative(arch) ? 'natively' : 'under qemu-user';
    const timeout = isNative(arch) ? 30_000 : EMULATED_TIMEOUT_MS;

    describe.skipIf(missing !== undefined)(`the single executable for ${arch}, run ${how}`, () => {
      let executable: string;
      const command = (args: string[]) => commandFor(arch, executable, args);

      beforeAll(async () => {
        executable = await buildExecutable(arch);
      }, BUILD_TIMEOUT_MS);

      it(
        'prints its version',
        async () => {
          const result = await runToEnd(command(['--version']));
          expect(result).toEqual({ code: 0, output: `${VERSION}\n` });
        },
        timeout,
      );

      it(
        'check: joins the test-server with its firmware metadata and exits 0',
        async () => {
          const device = await deviceFor(arch, `sea-check-${arch}`);
          const result = await runToEnd(command(['check', '--config', device.configFile]), {
            env: { FAKE_FWUP_LOG: device.fwupLog },
          });
          expect(result.code, result.output).toBe(0);
          expect(result.output).toContain(`ok   identifier sea-check-${arch}`);
          expect(result.output).toContain('ok   joined "device"');
          const page = e2e.server.records(device.identifier);
          expect(page?.firmware?.uuid).toBe(RUNNING_UUID);
          expect(page?.connectionStatus).not.toBeNull();
        },
        timeout,
      );

      it(
        'run: takes a deployment update, applies it with fwup, reports every step and reboots',
        async () => {
          const device = await deviceFor(arch, `sea-update-${arch}`);
          const firmware = e2e.firmware('small-signed.fw');
          const started = performance.now();
          const daemon = start(command(['run', '--config', device.configFile]), {
            env: { FAKE_FWUP_LOG: device.fwupLog },
          });
          await e2e.server.waitForJoin(device.identifier, { timeoutMs: timeout });
          const deployment = e2e.server.createDeployment({
            firmwareId: firmware.id,
            devices: [device.identifier],
          });
          const exit = await daemon.exited;
          console.log(
            `${arch} executable ${how}: start to rebooting ${Math.round(performance.now() - started)} ms`,
          );
          expect(exit.code, daemon.output()).toBe(0);

          expect(statuses(e2e.server, device.identifier)).toEqual(['received', 'started', 'completed']);
          const page = e2e.server.records(device.identifier)!;
          expect(page.inflightUpdate).toMatchObject({
            firmwareUuid: firmware.meta.uuid,
            deploymentId: deployment.id,
            status: 'completed',
          });
          expect(page.updateAttempts).toHaveLength(1);
          expect(page.updatesBlockedUntil).toBeNull();
          // It told the server which interface it uses; NervesHub files loopback under "unknown".
          const report = e2e.server
            .device(device.identifier)
            .events.find((event) => event.event === 'report_network_interface');
          expect(report?.payload).toEqual({ interface: 'lo' });
          expect(page.networkInterface).toBe('unknown');
          const events = e2e.server.device(device.identifier).events.map((event) => event.event);
          expect(events.at(-1)).toBe('rebooting');

          // The organization's key came from the server; fwup checked and applied the image with it.
          expect(device.fwupRuns().map((argv) => argv[0])).toEqual(['-V', '-a']);
          expect(device.fwupRuns().every((argv) => argv.includes(FWUP_KEY))).toBe(true);
          expect(readFileSync(device.disk).length).toBe(262144);
          expect(daemon.output()).toContain('would reboot now');
          expect(device.downloads()).toEqual([]);
        },
        timeout,
      );
    });
  }
});
