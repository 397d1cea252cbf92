// `nerves-hub-link status` against what a hostile server can put in it, and against a daemon that does not move.
// An offer whose version and uuid hold terminal controls (clear the screen, set the title, forge a line) and
// 600 KB of text: `status`, `status --json` and status.json show them escaped and bounded, and the update still
// goes through as NervesHub records it. A daemon stopped with SIGSTOP is "not responding", exit 1, until SIGCONT.
import { execFile } from 'node:child_process';
import { appendFileSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { BUNDLE, createDevice, type Device, runDaemon, useTestServer } from './support/harness.js';

const e2e = useTestServer('daemon-status-command-', ['small-signed.fw']);
const run = promisify(execFile);

async function status(device: Device, json = false): Promise<{ code: number; stdout: string }> {
  try {
    const { stdout } = await run(process.execPath, [
      BUNDLE,
      'status',
      '--config',
      device.configFile,
      ...(json ? ['--json'] : []),
    ]);
    return { code: 0, stdout };
  } catch (error) {
    const failed = error as { code?: number; stdout?: string };
    return { code: failed.code ?? -1, stdout: failed.stdout ?? '' };
  }
}

async function until<T>(what: string, probe: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

// ESC, BEL, CR, and the bidirectional override: whatever a terminal would act on.
const TERMINAL_CONTROLS = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u202e]/;

describe('nerves-hub-link status', () => {
  it('shows server strings escaped and bounded; a stopped daemon is not responding, exit 1', async () => {
    const device = await createDevice(e2e.server, e2e.root, 'status-hostile');
    appendFileSync(device.configFile, '[updates]\nreboot_policy = "never"\n');
    const daemon = runDaemon(device);
    await e2e.server.waitForJoin(device.identifier);
    const firmware = e2e.firmware('small-signed.fw');
    const payload = e2e.server.firmwareHost.updatePayload(e2e.server.url, firmware.id);
    const forged = '\r\nnerves-hub-link is running (pid 1) and connected to NervesHub';
    const version = `\x1b[2J\x1b]0;pwned\x07${forged}${'v'.repeat(600_000)}`;
    const uuid = `${firmware.meta.uuid}\x1b[2J\u202e`;
    e2e.server.push(device.identifier, 'update', {
      ...payload,
      firmware_meta: { ...payload.firmware_meta, uuid, version },
    });
    const written = await until('the written firmware in the status', async () => {
      const each = await status(device, true);
      const parsed = JSON.parse(each.stdout) as { state?: { update?: { stage?: string } } };
      return parsed.state?.update?.stage === 'awaiting-reboot' ? each : undefined;
    });
    expect(e2e.server.records(device.identifier)?.inflightUpdate).toMatchObject({ status: 'completed' });

    const text = await status(device);
    expect(text.code).toBe(0);
    expect(text.stdout).not.toMatch(TERMINAL_CONTROLS);
    // The forged line is part of the update's line, not a line of its own.
    expect(
      text.stdout.split('\n').filter((line) => line.startsWith('nerves-hub-link is running')),
    ).toHaveLength(1);
    expect(text.stdout).toContain('\\x1b[2J\\x1b]0;pwned\\x07\\r\\nnerves-hub-link is running (pid 1)');
    expect(text.stdout).toContain(`(${version.length} characters)`);
    expect(text.stdout.length).toBeLessThan(5_000);
    const json = JSON.parse(written.stdout) as { state: { update: { uuid: string; version: string } } };
    expect(json.state.update.uuid).toBe(`${firmware.meta.uuid}\\x1b[2J\\u202e`);
    expect(json.state.update.version.length).toBeLessThanOrEqual(300);
    // Nor as JSON escapes, which `jq -r` would print raw.
    expect(written.stdout).not.toMatch(/(?<!\\)\\u(00[01]|202e)/);
    const file = join(device.dataDir, 'status.json');
    expect(statSync(file).size).toBeLessThan(5_000);
    expect(readFileSync(file, 'utf8')).not.toMatch(TERMINAL_CONTROLS);

    const pid = daemon.child.pid!;
    process.kill(pid, 'SIGSTOP');
    try {
      const stopped = await status(device);
      expect(stopped.code).toBe(1);
      expect(stopped.stdout).toMatch(
        new RegExp(`^nerves-hub-link is not responding \\(pid ${pid}\\): it is stopped \\(SIGSTOP`),
      );
      expect(stopped.stdout).toMatch(/last known state, written/);
      expect(JSON.parse((await status(device, true)).stdout)).toMatchObject({
        running: true,
        responding: false,
        exit_code: 1,
      });
    } finally {
      process.kill(pid, 'SIGCONT');
    }
    expect((await status(device)).code).toBe(0);
    daemon.child.kill('SIGTERM');
    expect((await daemon.waitForExit()).code).toBe(0);
  }, 60_000);
});
