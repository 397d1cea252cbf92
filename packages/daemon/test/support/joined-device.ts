// The preamble of nearly every scenario: a device of the suite's server, its daemon started, and its first join.
import type { JoinParams } from '@nerves-hub-link/test-server';
import {
  createDevice,
  type DaemonProcess,
  type Device,
  type DeviceOptions,
  type E2EContext,
  runDaemon,
} from './harness.js';
import { type InProcessDaemon, type InProcessOptions, runInProcess } from './in-process.js';

export interface JoinedDevice<D> {
  readonly device: Device;
  readonly daemon: D;
  /** The params of the first join. */
  readonly join: JoinParams;
}

export interface ProcessOptions {
  /** Run the bundle as a child process (end-to-end), not the Daemon in the test process. */
  readonly process: true;
  /** Extra environment of the process. */
  readonly env?: Record<string, string>;
  /** Extra arguments after `run --config FILE`. */
  readonly args?: string[];
}

/** Creates the device, starts its daemon (in the test process unless `process`), and waits for its join. */
export function startJoinedDevice(
  e2e: E2EContext,
  identifier: string,
  options?: DeviceOptions & InProcessOptions,
): Promise<JoinedDevice<InProcessDaemon>>;
export function startJoinedDevice(
  e2e: E2EContext,
  identifier: string,
  options: DeviceOptions & ProcessOptions,
): Promise<JoinedDevice<DaemonProcess>>;
export async function startJoinedDevice(
  e2e: E2EContext,
  identifier: string,
  options: DeviceOptions & (InProcessOptions | ProcessOptions) = {},
): Promise<JoinedDevice<InProcessDaemon | DaemonProcess>> {
  const device = await createDevice(e2e.server, e2e.root, identifier, options);
  const daemon =
    'process' in options && options.process
      ? runDaemon(device, options.env ?? {}, options.args ?? [])
      : await runInProcess(device, options as InProcessOptions);
  const join = await Promise.race([
    e2e.server.waitForJoin(identifier),
    daemon.exited.then((end) => {
      throw new Error(
        `the daemon of ${identifier} ended before it joined (${JSON.stringify(end)}):\n${daemon.output()}`,
      );
    }),
  ]);
  return { device, daemon, join };
}
