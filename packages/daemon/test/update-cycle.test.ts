// The daemon as a device runs it: a full update cycle per auth method with the bundled file in a child process,
// against the test-server over real TLS; the rest with the daemon in the test process (support/in-process.ts).
import { chmodSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fakeFwupPath } from '@nerves-hub-link/test-server';
import { describe, expect, it } from 'vitest';
import { FWUP_KEY, RUNNING_UUID, statuses, useTestServer } from './support/harness.js';
import { startJoinedDevice } from './support/joined-device.js';

const e2e = useTestServer('daemon-e2e-', ['small-signed.fw']);

describe('a full update cycle', () => {
  for (const [auth, keys] of [
    ['mtls', 'server'],
    ['shared_secret', 'configured'],
  ] as const) {
    it(`with ${auth} and ${keys} keys: joins with its metadata, downloads, checks the signature, applies, reports and reboots`, async () => {
      // Debug logging: even then no secret, signature or presigned query may appear.
      const { device, daemon, join } = await startJoinedDevice(e2e, `cycle-${auth}`, {
        auth,
        keys,
        process: true,
        args: ['--log-level', 'debug'],
      });
      expect(join).toMatchObject({
        nerves_fw_uuid: RUNNING_UUID,
        nerves_fw_product: 'demo',
        fwup_version: '1.16.0',
        device_api_version: '2.0.0',
        currently_downloading_uuid: null,
        meta: { firmware_validated: true, firmware_auto_revert_detected: false },
      });
      if (keys === 'server') {
        // No key in the config: the organization's signing key comes from the server.
        expect(join.fwup_public_keys).toBe('on_connect');
        await daemon.waitForOutput(/received 1 fwup public key/);
      } else {
        expect(join.fwup_public_keys).toBeUndefined();
      }
      const report = await e2e.server.waitForEvent(
        device.identifier,
        (event) => event.event === 'report_network_interface',
      );
      expect(report.payload).toEqual({ interface: 'lo' });
      e2e.server.sendUpdate(device.identifier, e2e.firmware('small-signed.fw').id);
      const exit = await daemon.waitForExit();
      expect(exit.code).toBe(0);
      expect(statuses(e2e.server, device.identifier)).toEqual(['received', 'started', 'completed']);
      const started = e2e.server
        .device(device.identifier)
        .events.find((event) => event.payload?.status === 'started');
      expect(started?.payload).toEqual({ status: 'started', downloader_network_interface: 'lo' });
      const events = e2e.server.device(device.identifier).events.map((event) => event.event);
      expect(events.at(-1)).toBe('rebooting');
      const progress = e2e.server
        .device(device.identifier)
        .events.filter((event) => event.event === 'fwup_progress')
        .map((event) => `${event.payload.stage}:${event.payload.value}`);
      expect(progress).toContain('downloading:100');
      expect(progress.at(-1)).toBe('updating:100');
      expect(device.fwupRuns().map((argv) => argv[0])).toEqual(['-V', '-a']);
      expect(
        device.fwupRuns().every((argv) => argv.includes('--public-key') && argv.includes(FWUP_KEY)),
      ).toBe(true);
      expect(daemon.output()).toContain('would reboot now');
      expect(daemon.output()).not.toMatch(/X-Amz-Signature|x-nh-signature|SFMyNTY|secret-of-/);
      expect(readFileSync(device.disk).length).toBe(262144);
      expect(device.downloads()).toEqual([]);
    });
  }

  it('passes fwup.extra_options to the apply and [fwup.env] to every fwup run', async () => {
    // Records what fwup gets, then runs the fake fwup without the option it does not know.
    const wrapper = join(e2e.root, 'recording-fwup.sh');
    const record = join(e2e.root, 'recorded-fwup.jsonl');
    writeFileSync(
      wrapper,
      [
        '#!/bin/sh',
        `printf '{"argv":"%s","slot":"%s"}\\n' "$*" "$FWUP_TEST_SLOT" >> "${record}"`,
        'for arg; do shift; [ "$arg" = "--unsafe" ] || set -- "$@" "$arg"; done',
        `exec "${process.execPath}" "${fakeFwupPath}" "$@"`,
        '',
      ].join('\n'),
    );
    chmodSync(wrapper, 0o755);
    const { device, daemon } = await startJoinedDevice(e2e, 'fwup-options', {
      fwupPath: wrapper,
      fwupEnv: { FWUP_TEST_SLOT: 'b' },
      settings: { fwup: { extra_options: ['--unsafe'] } },
    });
    e2e.server.sendUpdate(device.identifier, e2e.firmware('small-signed.fw').id);
    expect((await daemon.waitForExit()).code).toBe(0);
    const runs = readFileSync(record, 'utf8')
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { argv: string; slot: string })
      .filter((run) => run.argv !== '--version');
    expect(runs.map((run) => run.argv.split(' ')[0])).toEqual(['-V', '-a']);
    expect(runs[0]?.argv).not.toContain('--unsafe');
    expect(runs[1]?.argv).toMatch(/ -U --unsafe --public-key /);
    expect(runs.map((run) => run.slot)).toEqual(['b', 'b']);
  });
});

describe('offers the daemon does not act on', () => {
  it('ignores update_available:false silently, answers an offer of the running firmware with ignored', async () => {
    const { device, daemon } = await startJoinedDevice(e2e, 'ignorer');
    e2e.server.push(device.identifier, 'update', {
      update_available: false,
      firmware_url: null,
      firmware_meta: null,
      size: null,
      checksum: null,
      partials_checksums: null,
      deployment_id: null,
    });
    const running = e2e.server.firmwareHost.updatePayload(e2e.server.url, e2e.firmware('small-signed.fw').id);
    running.firmware_meta.uuid = RUNNING_UUID;
    e2e.server.push(device.identifier, 'update', running);
    await e2e.server.waitForEvent(device.identifier, (event) => event.payload?.status === 'ignored');
    expect(statuses(e2e.server, device.identifier)).toEqual(['received', 'ignored']);
    e2e.server.push(device.identifier, 'archive', { url: 'https://example.invalid/a' });
    await daemon.waitForOutput(/ignoring "archive"/);
    daemon.stop();
    expect((await daemon.waitForExit()).code).toBe(0);
    expect(device.fwupRuns()).toEqual([]);
  });

  it('ignores a second update while one is running', async () => {
    const { device, daemon } = await startJoinedDevice(e2e, 'busy');
    e2e.server.sendUpdate(device.identifier, e2e.firmware('small-signed.fw').id, {
      fault: { kind: 'slow', bytesPerSecond: 400_000 },
    });
    await e2e.server.waitForEvent(device.identifier, (event) => event.payload?.status === 'started');
    e2e.server.push(
      device.identifier,
      'update',
      e2e.server.firmwareHost.updatePayload(e2e.server.url, e2e.firmware('small-signed.fw').id),
    );
    expect((await daemon.waitForExit()).code).toBe(0);
    expect(statuses(e2e.server, device.identifier)).toEqual(['received', 'started', 'completed']);
    expect(device.fwupRuns().filter((argv) => argv.includes('-a'))).toHaveLength(1);
    expect(daemon.output()).toMatch(/not answered: update .* is in progress/);
  });
});
