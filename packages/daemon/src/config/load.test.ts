import { chmodSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../errors/daemon-errors.js';
import { configPath, loadConfig, parseConfig } from './load.js';

const MTLS = `
uri = "wss://devices.example.com/socket/websocket"
data_dir = "/var/lib/nerves-hub-link"
[auth]
method = "mtls"
cert_file = "/etc/nerves-hub-link/cert.pem"
key_file = "/etc/nerves-hub-link/key.pem"
`;

function problemsOf(text: string): readonly string[] {
  try {
    parseConfig(text, '/etc/nerves-hub-link/config.toml');
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as ConfigError).problems;
  }
  throw new Error('expected the config to be rejected');
}

describe('parseConfig', () => {
  it('accepts a minimal mTLS config and fills in every default', () => {
    const { config } = parseConfig(MTLS, '/etc/nerves-hub-link/config.toml');
    expect(config.auth).toEqual({
      method: 'mtls',
      certFile: '/etc/nerves-hub-link/cert.pem',
      keyFile: '/etc/nerves-hub-link/key.pem',
    });
    expect(config.identity).toEqual({ kind: 'certificate' });
    expect(config.fwup).toMatchObject({
      path: 'fwup',
      task: 'upgrade',
      publicKeys: [],
      allowUnsigned: false,
      extraOptions: [],
      env: {},
      noUnmount: true,
    });
    expect(config.fwup.devpath).toBeUndefined();
    expect(config.metadata).toEqual({ values: {} });
    expect(config.commands.reboot).toEqual(['reboot']);
    expect(config.commands.identify).toBeUndefined();
    expect(config.download).toEqual({ allowHttp: false, maxAttempts: 5, idleTimeoutMs: 60_000 });
    expect(config.heartbeatIntervalMs).toBe(30_000);
    expect(config.hooks).toEqual({
      timeoutMs: 60_000,
      onHookFailure: 'reschedule',
      onBeforeHookFailure: 'fail',
      rescheduleDelayMs: 300_000,
      beforeRebootMaxFailures: 3,
    });
    expect(config.updates).toEqual({ windows: [], windowSpreadMs: 300_000, rebootPolicy: 'immediate' });
  });

  it('reads [hooks] and [updates]', () => {
    const { config } = parseConfig(
      `${MTLS}
[hooks]
update_available = ["/usr/lib/app/may-update", "--strict"]
before_download = "/usr/lib/app/free-space"
before_apply = ["sh", "-c", "systemctl stop app"]
after_apply = ""
on_error = "logger update-failed"
before_reboot = "/usr/lib/app/reboot-ok"
timeout_ms = 120000
on_hook_failure = "apply"
on_before_hook_failure = "reschedule"
reschedule_delay = "15m"
[updates]
window = ["Mon-Fri 02:00-05:00", "Sat 22:00-02:00"]
timezone = "Europe/Berlin"
window_spread = "90s"
reboot_policy = "hook"
`,
      'c.toml',
    );
    expect(config.hooks).toEqual({
      updateAvailable: ['/usr/lib/app/may-update', '--strict'],
      beforeDownload: ['/usr/lib/app/free-space'],
      beforeApply: ['sh', '-c', 'systemctl stop app'],
      onError: ['logger', 'update-failed'],
      beforeReboot: ['/usr/lib/app/reboot-ok'],
      timeoutMs: 120_000,
      onHookFailure: 'apply',
      onBeforeHookFailure: 'reschedule',
      rescheduleDelayMs: 900_000,
      beforeRebootMaxFailures: 3,
    });
    expect(config.updates).toMatchObject({
      timezone: 'Europe/Berlin',
      windowSpreadMs: 90_000,
      rebootPolicy: 'hook',
    });
    expect(config.updates.windows.map((window) => [window.text, window.crossesMidnight])).toEqual([
      ['Mon-Fri 02:00-05:00', false],
      ['Sat 22:00-02:00', true],
    ]);
    // One window may be written as a plain string.
    const single = parseConfig(`${MTLS}[updates]\nwindow = "02:00-04:00"\n`, 'c.toml');
    expect(single.config.updates.windows).toHaveLength(1);
  });

  it('accepts the full shape of the example config', () => {
    const { config } = parseConfig(
      `
uri = "wss://devices.example.com/device-socket/websocket"
data_dir = "state"
[identity]
serial_command = "cat /etc/device-serial"
[auth]
method = "shared_secret"
key = "nhp_abc"
secret_file = "secret.txt"
ca_file = "ca.pem"
[fwup]
path = "/usr/bin/fwup"
devpath = "/dev/mmcblk0"
task = "upgrade"
public_keys = ["53xupSixxj0VvwpadQs/xscN2XPiPbh9PMcUOGgaBW0="]
no_unmount = true
[metadata]
file = "/etc/fw.env"
[metadata.values]
nerves_fw_platform = "rpi4"
[commands]
reboot = ["systemctl", "reboot"]
identify = ["sh", "-c", "echo 1 > /sys/class/leds/led0/brightness"]
`,
      '/opt/nhl/config.toml',
    );
    expect(config.identity).toEqual({
      kind: 'command',
      command: ['cat', '/etc/device-serial'],
      timeoutMs: 10_000,
    });
    expect(config.auth).toEqual({
      method: 'shared_secret',
      key: 'nhp_abc',
      secretFile: '/opt/nhl/secret.txt',
      caFile: '/opt/nhl/ca.pem',
    });
    expect(config.dataDir).toBe('/opt/nhl/state');
    expect(config.metadata).toEqual({ file: '/etc/fw.env', values: { nerves_fw_platform: 'rpi4' } });
    expect(config.commands.identify).toEqual(['sh', '-c', 'echo 1 > /sys/class/leds/led0/brightness']);
  });

  it('accepts the example config shipped with the package', () => {
    const text = readFileSync(new URL('../../examples/config.toml', import.meta.url), 'utf8');
    const { config } = parseConfig(text, '/etc/nerves-hub-link/config.toml');
    expect(config.auth.method).toBe('mtls');
    expect(config.identity).toEqual({
      kind: 'command',
      command: ['cat', '/etc/device-serial'],
      timeoutMs: 10_000,
    });
  });

  it('reads fwup.allow_unsigned, fwup.extra_options and the [fwup.env] table', () => {
    const { config } = parseConfig(
      `${MTLS}[fwup]\nallow_unsigned = true\nextra_options = ["--unsafe"]\n[fwup.env]\nFWUP_SLOT = "b"\nEMPTY = ""\n`,
      'c.toml',
    );
    expect(config.fwup).toMatchObject({
      allowUnsigned: true,
      extraOptions: ['--unsafe'],
      env: { FWUP_SLOT: 'b', EMPTY: '' },
    });
  });

  it('treats identify = "" as no identify command', () => {
    const { config } = parseConfig(`${MTLS}\n[commands]\nidentify = ""\n`, 'c.toml');
    expect(config.commands.identify).toBeUndefined();
  });

  // Each bad config names the key, what it found and what it expects.
  const BAD: Array<[string, string, RegExp]> = [
    ['TOML syntax', 'uri = "wss://x', /line 1, column \d+/],
    ['missing uri', MTLS.replace(/^uri.*$/m, ''), /^uri: missing; expected the NervesHub device socket URL/],
    [
      'uri not a URL',
      MTLS.replace(/^uri.*$/m, 'uri = "devices example"'),
      /^uri: "devices example" is not a URL/,
    ],
    [
      'uri with https scheme',
      MTLS.replace('wss://', 'https://'),
      /^uri: expected a wss:\/\/ URL, got https:/,
    ],
    [
      'uri with a query',
      MTLS.replace('websocket"', 'websocket?vsn=1.0.0"'),
      /^uri: must not carry a query string/,
    ],
    ['missing [auth]', 'uri = "wss://h/socket/websocket"', /^auth: missing; add a \[auth\] table/],
    [
      'unknown method',
      MTLS.replace('"mtls"', '"password"'),
      /^auth.method: expected one of "mtls", "shared_secret", got "password"/,
    ],
    ['mtls without key', MTLS.replace(/^key_file.*$/m, ''), /^auth.key_file: missing; set key_file/],
    [
      'engine without key_id',
      MTLS.replace(/^key_file.*$/m, 'key_engine = "pkcs11"'),
      /^auth.key_id: missing/,
    ],
    [
      'key file and engine',
      `${MTLS}key_engine = "pkcs11"\nkey_id = "pkcs11:object=k"\n`,
      /^auth.key_file: set either key_file or key_engine/,
    ],
    [
      'cert_file is a number',
      MTLS.replace(/^cert_file.*$/m, 'cert_file = 42'),
      /^auth.cert_file: expected a path to the device certificate \(PEM\), got 42/,
    ],
    [
      'typo in a key',
      MTLS.replace('cert_file', 'certfile'),
      /^auth.certfile: unknown key \(did you mean "auth.cert_file"\?\)/,
    ],
    ['unknown top-level key', `log_level = "debug"\n${MTLS}`, /^log_level: unknown key/],
    [
      'shared secret without secret',
      'uri = "wss://h/device-socket/websocket"\n[identity]\nserial = "d1"\n[auth]\nmethod = "shared_secret"\nkey = "nhp_x"\n',
      /^auth.secret: missing; set secret = /,
    ],
    [
      'shared secret without identifier',
      'uri = "wss://h/device-socket/websocket"\n[auth]\nmethod = "shared_secret"\nkey = "nhp_x"\nsecret = "s"\n',
      /^identity.serial_command: missing; a shared-secret device needs its identifier/,
    ],
    [
      'serial command with a pipe',
      `${MTLS}[identity]\nserial_command = "cat /x | tr -d a"\n`,
      /^identity.serial_command: .*write it as an array, e.g. \["sh", "-c"/,
    ],
    [
      'bad public key',
      `${MTLS}[fwup]\npublic_keys = ["abc"]\n`,
      /^fwup.public_keys\[0\]: expected a 44-character base64 Ed25519 key, got "abc"/,
    ],
    [
      'heartbeat too long',
      `heartbeat_interval_ms = 600000\n${MTLS}`,
      /^heartbeat_interval_ms: expected a whole number of milliseconds .* from 1000 to 170000, got 600000/,
    ],
    ['ws:// without allow_http', MTLS.replace('wss://', 'ws://'), /^uri: ws:\/\/ is not encrypted/],
    [
      'allow_http not boolean',
      `${MTLS}[download]\nallow_http = "yes"\n`,
      /^download.allow_http: expected true or false, got "yes"/,
    ],
    [
      'metadata command and file',
      `${MTLS}[metadata]\ncommand = "fw_printenv"\nfile = "/x"\n`,
      /^metadata.file: set either command or file/,
    ],
    ['fwup as a string', `fwup = "fwup"\n${MTLS}`, /^fwup: expected a table \(\[fwup\]\), got "fwup"/],
    [
      'extra_options as a string',
      `${MTLS}[fwup]\nextra_options = "--unsafe"\n`,
      /^fwup.extra_options: expected an array of fwup options/,
    ],
    [
      'an fwup.env value that is not a string',
      `${MTLS}[fwup.env]\nSLOT = 2\n`,
      // An environment variable may carry a credential: named by its kind only.
      /^fwup.env.SLOT: expected a string, got a number$/,
    ],
    [
      'an fwup.env name that is not a variable name',
      `${MTLS}[fwup.env]\n"A-B" = "x"\n`,
      /^fwup.env.A-B: expected an environment variable name/,
    ],
    [
      'allow_unsigned not boolean',
      `${MTLS}[fwup]\nallow_unsigned = "yes"\n`,
      /^fwup.allow_unsigned: expected true or false, got "yes"/,
    ],
    [
      'a hook written with shell syntax',
      `${MTLS}[hooks]\nupdate_available = "check && echo apply"\n`,
      /^hooks.update_available: .*write it as an array, e.g. \["sh", "-c"/,
    ],
    [
      'an unknown hook',
      `${MTLS}[hooks]\nbefore_downlaod = "x"\n`,
      /^hooks.before_downlaod: unknown key \(did you mean "hooks.before_download"\?\)/,
    ],
    [
      'an unknown hook failure policy',
      `${MTLS}[hooks]\non_hook_failure = "ignore"\n`,
      /^hooks.on_hook_failure: expected one of "apply", "reschedule", got "ignore"/,
    ],
    [
      'a delay without a unit',
      `${MTLS}[hooks]\nreschedule_delay = 300\n`,
      /^hooks.reschedule_delay: expected a duration such as "30s", "15m" or "1h30m" from 5 min to 7 d, got 300/,
    ],
    [
      'a reschedule delay shorter than a rescheduled offer may wait',
      `${MTLS}[hooks]\nreschedule_delay = "1s"\n`,
      /^hooks.reschedule_delay: expected a duration such as "30s", "15m" or "1h30m" from 5 min to 7 d, got "1s"/,
    ],
    [
      'a hook timeout past what a timer holds (25 days)',
      `${MTLS}[hooks]\ntimeout_ms = 2160000000\n`,
      /^hooks.timeout_ms: expected a whole number of milliseconds from 100 to 3600000, got 2160000000/,
    ],
    [
      'a window spread of 25 days',
      `${MTLS}[updates]\nwindow_spread = "25d"\n`,
      /^updates.window_spread: expected a duration such as "30s", "15m" or "1h30m" from 0 ms to 24 h, got "25d"/,
    ],
    [
      'a before_reboot failure limit of 0',
      `${MTLS}[hooks]\nbefore_reboot_max_failures = 0\n`,
      /^hooks.before_reboot_max_failures: expected a whole number of failures from 1 to 1000, got 0/,
    ],
    [
      'a window that is not one',
      `${MTLS}[updates]\nwindow = ["Mon-Fri 02:00-05:00", "weekends"]\n`,
      /^updates.window\[1\]: "weekends": expected "\[days\] HH:MM-HH:MM"/,
    ],
    [
      'a window with a bad day',
      `${MTLS}[updates]\nwindow = ["Mo-Fr 02:00-05:00"]\n`,
      /^updates.window\[0\]: "Mo-Fr 02:00-05:00": "Mo-Fr" is not a day/,
    ],
    ['window as a number', `${MTLS}[updates]\nwindow = 3\n`, /^updates.window: expected an array of windows/],
    [
      'an unknown time zone',
      `${MTLS}[updates]\ntimezone = "Europe/Gotham"\n`,
      /^updates.timezone: "Europe\/Gotham" is not a time zone known/,
    ],
    [
      'a spread that is too long',
      `${MTLS}[updates]\nwindow_spread = "2d"\n`,
      /^updates.window_spread: expected a duration .* from 0 ms to 24 h, got "2d"/,
    ],
    [
      'reboot_policy "hook" without before_reboot',
      `${MTLS}[updates]\nreboot_policy = "hook"\n`,
      /^updates.reboot_policy: "hook" needs a hooks.before_reboot command/,
    ],
    [
      'an unknown reboot policy',
      `${MTLS}[updates]\nreboot_policy = "later"\n`,
      /^updates.reboot_policy: expected one of "immediate", "hook", "never"/,
    ],
  ];

  for (const [name, text, expected] of BAD) {
    it(`rejects a config with ${name}`, () => {
      const problems = problemsOf(text);
      expect(
        problems.some((problem) => expected.test(problem)),
        problems.join('\n'),
      ).toBe(true);
    });
  }

  it('never echoes the value of a key that may hold a secret, only its kind', () => {
    const sharedSecret =
      'uri = "wss://h/device-socket/websocket"\n[identity]\nserial = "d"\n[auth]\nmethod = "shared_secret"\nkey = "nhp_k"\n';
    const cases: Array<[string, string, RegExp]> = [
      [`${sharedSecret}secret = 98765432109\n`, '98765432109', /^auth.secret: expected .*, got a number$/],
      [`${sharedSecret}secret = ["hunter2"]\n`, 'hunter2', /^auth.secret: expected .*, got an array$/],
      [`${sharedSecret}secret = 1979-05-27T07:32:00Z\n`, '1979', /^auth.secret: expected .*, got a date$/],
      [
        'uri = "wss://h/socket/websocket"\n[auth]\nmethod = "mtls"\ncert_file = "c"\nkey_engine = "pkcs11"\nkey_id = 271828\n',
        '271828',
        /^auth.key_id: expected .*, got a number$/,
      ],
      [
        `${MTLS}[fwup.env]\nTOKEN = 31415926\n`,
        '31415926',
        /^fwup.env.TOKEN: expected a string, got a number$/,
      ],
    ];
    for (const [text, secret, expected] of cases) {
      const problems = problemsOf(text);
      expect(problems.join('\n')).not.toContain(secret);
      expect(
        problems.some((problem) => expected.test(problem)),
        problems.join('\n'),
      ).toBe(true);
    }
  });

  it('reports every problem of a file at once', () => {
    const problems = problemsOf('uri = 1\n[auth]\nmethod = "mtls"\ncert_file = 2\nkey_file = "k"\nfoo = 1\n');
    expect(problems).toHaveLength(3);
  });
});

describe('loadConfig', () => {
  it('names the file and the fix when it does not exist', () => {
    expect(() => loadConfig('/nonexistent/config.toml')).toThrowError(
      expect.objectContaining({
        code: 'CONFIG_NOT_FOUND',
        message: expect.stringContaining('--config PATH'),
      }),
    );
  });

  it('warns when a file holding a secret is readable by others', () => {
    const dir = mkdtempSync(join(tmpdir(), 'nhl-config-'));
    const file = join(dir, 'config.toml');
    writeFileSync(
      file,
      'uri = "wss://h/device-socket/websocket"\n[identity]\nserial = "d"\n[auth]\nmethod = "shared_secret"\nkey = "nhp_k"\nsecret = "s3cret"\n',
    );
    chmodSync(file, 0o644);
    expect(loadConfig(file).warnings).toEqual([expect.stringContaining('chmod 600')]);
    chmodSync(file, 0o600);
    expect(loadConfig(file).warnings).toEqual([]);
  });

  it('warns about a PIN in auth.key_id, not about `pin-value=` in a comment (the shipped example has one)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'nhl-config-'));
    const example = join(dir, 'example.toml');
    writeFileSync(example, readFileSync(new URL('../../examples/config.toml', import.meta.url)));
    chmodSync(example, 0o644);
    expect(readFileSync(example, 'utf8')).toMatch(/^#.*pin-value=/m);
    expect(loadConfig(example).warnings).toEqual([]);

    const withPin = join(dir, 'pin.toml');
    writeFileSync(
      withPin,
      'uri = "wss://h/socket/websocket"\n[auth]\nmethod = "mtls"\ncert_file = "c.pem"\nkey_engine = "pkcs11"\n' +
        'key_id = "pkcs11:token=t;object=k;pin-value=1234"\n',
    );
    chmodSync(withPin, 0o644);
    expect(loadConfig(withPin).warnings).toEqual([
      `${withPin} holds a PKCS#11 PIN (auth.key_id pin-value) and is readable by other users; run chmod 600 on it`,
    ]);
  });
});

describe('configPath', () => {
  it('prefers the flag, then NERVES_HUB_LINK_CONFIG, then the default', () => {
    expect(configPath('/a.toml', { NERVES_HUB_LINK_CONFIG: '/b.toml' })).toBe('/a.toml');
    expect(configPath(undefined, { NERVES_HUB_LINK_CONFIG: '/b.toml' })).toBe('/b.toml');
    expect(configPath(undefined, {})).toBe('/etc/nerves-hub-link/config.toml');
  });
});
