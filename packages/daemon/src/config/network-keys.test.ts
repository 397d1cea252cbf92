// The keys of the networks a device sits on: [network], auth.server_pins, download.pins, download.max_rate.
import { describe, expect, it } from 'vitest';
import { parseConfig } from './load.js';

const PIN = `sha256/${Buffer.alloc(32, 3).toString('base64')}`;
const base = (extra: { top?: string; auth?: string; download?: string } = {}) =>
  [
    'uri = "wss://devices.example.com/socket/websocket"',
    extra.top ?? '',
    '[auth]',
    'method = "mtls"',
    'cert_file = "/etc/nerves-hub-link/cert.pem"',
    'key_file = "/etc/nerves-hub-link/key.pem"',
    extra.auth ?? '',
    '[download]',
    extra.download ?? '',
  ].join('\n');

const problems = (text: string): string[] => {
  try {
    parseConfig(text, '/etc/nerves-hub-link/config.toml');
  } catch (error) {
    return (error as { problems: string[] }).problems;
  }
  return [];
};

describe('network keys', () => {
  it('are absent by default', () => {
    const { config } = parseConfig(base(), '/etc/nerves-hub-link/config.toml');
    expect(config.network).toEqual({});
    expect(config.auth.serverPins).toBeUndefined();
    expect(config.download.pins).toBeUndefined();
    expect(config.download.maxBytesPerSecond).toBeUndefined();
  });

  it('reads the proxy, no_proxy as an array or a string, pins and the rate', () => {
    const { config } = parseConfig(
      base({
        top: '[network]\nproxy = "http://dev:p%40ss@proxy.corp:3128"\nno_proxy = "localhost, .corp 10.0.0.0/8"',
        auth: `server_pins = ["${PIN}"]`,
        download: `pins = ["${PIN}"]\nmax_rate = "500 KB/s"`,
      }),
      '/etc/nerves-hub-link/config.toml',
    );
    expect(config.network).toEqual({
      proxy: 'http://dev:p%40ss@proxy.corp:3128',
      noProxy: ['localhost', '.corp', '10.0.0.0/8'],
    });
    expect(config.auth.serverPins).toEqual([PIN]);
    expect(config.download.pins).toEqual([PIN]);
    expect(config.download.maxBytesPerSecond).toBe(500_000);
    const none = parseConfig(base({ top: '[network]\nproxy = ""\nno_proxy = []' }), '/x.toml').config;
    expect(none.network).toEqual({ proxy: '', noProxy: [] });
  });

  it('names every bad key, never echoing a proxy password', () => {
    const found = problems(
      base({
        top: '[network]\nproxy = "https://dev:hunter22@proxy:443"\nno_proxy = ["ok", "not ok"]\nproxi = 1',
        auth: 'server_pins = ["sha256/short"]',
        download: 'max_rate = 2048\npins = "sha256/x"',
      }),
    );
    expect(found).toEqual([
      'auth.server_pins[0]: expected "sha256/" and 44 base64 characters (a SHA-256 digest ending in "="), got "sha256/short"',
      'download.pins: expected an array of pins such as ["sha256/AbC…="], got "sha256/x"',
      'download.max_rate: expected a rate with its unit, such as "2 MiB/s" or "500 KB/s", got 2048',
      'network.proxy: only http:// proxies are supported (the connection to the server is tunnelled with CONNECT and stays TLS end to end), got https://',
      'network.no_proxy[1]: "not ok" is not a host name, .domain, IP address, IP/prefix or *, with an optional :port',
      'network.proxi: unknown key (did you mean "network.proxy"?)',
    ]);
    expect(found.join('\n')).not.toContain('hunter22');
    expect(problems(base({ download: 'max_rate = "512 B/s"' }))).toEqual([
      'download.max_rate: expected at least 1 KiB/s, got "512 B/s"',
    ]);
    expect(problems(base({ top: '[network]\nproxy = "proxy.corp:3128"' }))[0]).toMatch(/^network\.proxy: /);
  });
});
