import { describe, expect, it } from 'vitest';
import {
  checkProxyUrl,
  describeNetworkError,
  noProxyMatch,
  parseNoProxyEntry,
  parseNoProxyList,
  proxySettings,
} from './network-proxy.js';

const target = (url: string) => new URL(url);
const matches = (list: string, url: string) => noProxyMatch(parseNoProxyList(list), target(url))?.text;

describe('no_proxy, as curl reads it', () => {
  it('matches a host name and its subdomains, with or without a leading dot', () => {
    expect(matches('example.com', 'wss://example.com/socket')).toBe('example.com');
    expect(matches('example.com', 'wss://devices.example.com/socket')).toBe('example.com');
    expect(matches('.example.com', 'wss://example.com/socket')).toBe('.example.com');
    expect(matches('*.example.com', 'https://a.b.example.com/fw')).toBe('*.example.com');
    expect(matches('example.com', 'wss://badexample.com/socket')).toBeUndefined();
    expect(matches('EXAMPLE.com.', 'wss://Devices.Example.COM./socket')).toBe('EXAMPLE.com.');
  });

  it('matches everything with * alone, and splits on commas and spaces', () => {
    expect(matches('*', 'https://anything.example:8443/')).toBe('*');
    expect(matches(' localhost , 10.0.0.0/8  .corp', 'https://fw.corp/x')).toBe('.corp');
    expect(matches('*example.com', 'https://example.com/')).toBeUndefined();
  });

  it('matches IP addresses exactly or by prefix, never by name', () => {
    expect(matches('127.0.0.1', 'wss://127.0.0.1:4000/socket')).toBe('127.0.0.1');
    expect(matches('10.0.0.0/8', 'https://10.20.30.40/fw')).toBe('10.0.0.0/8');
    expect(matches('10.0.0.0/8', 'https://11.0.0.1/fw')).toBeUndefined();
    expect(matches('::1', 'wss://[::1]:4000/socket')).toBe('::1');
    expect(matches('[2001:db8::]/32', 'https://[2001:db8:1::5]/')).toBeUndefined();
    expect(matches('2001:db8::/32', 'https://[2001:db8:1::5]/')).toBe('2001:db8::/32');
    expect(matches('127.0.0.1', 'wss://localhost/socket')).toBeUndefined();
  });

  it('matches a port only when the entry names one; the URL default port counts', () => {
    expect(matches('example.com:443', 'wss://example.com/socket')).toBe('example.com:443');
    expect(matches('example.com:8443', 'wss://example.com/socket')).toBeUndefined();
    expect(matches('[::1]:4000', 'wss://[::1]:4000/socket')).toBe('[::1]:4000');
    expect(matches('127.0.0.1:80', 'ws://127.0.0.1/socket')).toBe('127.0.0.1:80');
  });

  it('says which entries are not entries', () => {
    for (const text of [
      'exa mple.com',
      'host:port',
      'host:0',
      '10.0.0.0/33',
      '::1/200',
      'a/b/c',
      'http://x',
    ]) {
      expect('problem' in parseNoProxyEntry(text), text).toBe(true);
    }
    expect(parseNoProxyList('good.example, bad:port, 10.0.0.1').map((e) => e.text)).toEqual([
      'good.example',
      '10.0.0.1',
    ]);
  });
});

describe('proxy URLs', () => {
  it('takes http:// only, a host, no path; the scheme may be left out where the environment allows', () => {
    expect(checkProxyUrl('http://user:pw@proxy:3128', { schemeOptional: false })).toMatchObject({
      url: new URL('http://user:pw@proxy:3128'),
    });
    expect('problem' in checkProxyUrl('proxy:3128', { schemeOptional: false })).toBe(true);
    expect(checkProxyUrl('proxy:3128', { schemeOptional: true })).toMatchObject({
      url: new URL('http://proxy:3128'),
    });
    expect(checkProxyUrl('https://proxy:3128', { schemeOptional: true })).toEqual({
      problem:
        'only http:// proxies are supported (the connection to the server is tunnelled with CONNECT and stays TLS end to end), got https://',
    });
    expect('problem' in checkProxyUrl('http://proxy:3128/path', { schemeOptional: false })).toBe(true);
    expect('problem' in checkProxyUrl('http://', { schemeOptional: false })).toBe(true);
  });
});

describe('proxySettings', () => {
  const socket = target('wss://devices.example.com/socket/websocket');
  const firmware = target('https://fw.example.net/a.fw?X-Amz-Signature=s');

  it('reads the environment, lower case first, by scheme', () => {
    const settings = proxySettings(
      {},
      {
        https_proxy: 'http://lower:3128',
        HTTPS_PROXY: 'http://upper:3128',
        HTTP_PROXY: 'plain-proxy:8080',
        NO_PROXY: 'fw.example.net',
      },
    );
    expect(settings.decide(socket)).toEqual({
      route: { url: new URL('http://lower:3128'), source: 'https_proxy' },
      description: 'through proxy http://lower:3128 (https_proxy)',
    });
    expect(settings.routeFor(firmware)).toBeUndefined();
    expect(settings.decide(firmware).description).toBe(
      'direct: fw.example.net matches "fw.example.net" in NO_PROXY (the proxy of https_proxy is not used for it)',
    );
    expect(settings.routeFor(target('ws://local.test/socket'))).toEqual({
      url: new URL('http://plain-proxy:8080'),
      source: 'HTTP_PROXY',
    });
  });

  it('lets the config win, per key, and "" turn the environment off', () => {
    const env = { HTTPS_PROXY: 'http://env-proxy:3128', NO_PROXY: '*' };
    const configured = proxySettings({ proxy: 'http://dev:p%40ss@corp-proxy:8080' }, env);
    // network.no_proxy unset: NO_PROXY=* still applies.
    expect(configured.routeFor(socket)).toBeUndefined();
    const both = proxySettings({ proxy: 'http://dev:p%40ss@corp-proxy:8080', noProxy: ['.internal'] }, env);
    expect(both.decide(socket)).toEqual({
      route: { url: new URL('http://dev:p%40ss@corp-proxy:8080'), source: 'network.proxy' },
      description: 'through proxy http://corp-proxy:8080 (network.proxy, with credentials)',
    });
    expect(both.secrets).toEqual(['p%40ss', 'p@ss']);
    const off = proxySettings({ proxy: '' }, env);
    expect(off.decide(socket)).toEqual({
      route: undefined,
      description: 'direct: network.proxy = "" (the environment\'s proxies are ignored)',
    });
    expect(proxySettings({}, {}).decide(socket).description).toBe(
      'direct: no proxy set (network.proxy, https_proxy, HTTPS_PROXY)',
    );
  });

  it('refuses a proxy variable it cannot use, naming it and the way out', () => {
    let error: (Error & { code?: string }) | undefined;
    try {
      proxySettings({}, { HTTPS_PROXY: 'socks5://user:secret@proxy:1080' });
    } catch (caught) {
      error = caught as Error & { code?: string };
    }
    expect(error?.code).toBe('CONFIG_INVALID');
    expect(error?.message).toMatch(
      /^the HTTPS_PROXY environment variable is not a usable proxy: only http:\/\//,
    );
    expect(error?.message).toContain('network.proxy = "" ignores the environment');
    expect(error?.message).not.toContain('secret');
    // The config overrides the environment, so a bad variable does not matter then.
    expect(() => proxySettings({ proxy: '' }, { HTTPS_PROXY: 'socks5://proxy:1080' })).not.toThrow();
  });
});

describe('describeNetworkError', () => {
  const wrapped = (cause: object) =>
    Object.assign(new Error('connection failed'), { code: 'PHX_CONNECT_FAILED', cause });

  it('adds what to check to a proxy failure', () => {
    const refused = wrapped({
      code: 'PHX_PROXY_FAILED',
      message: 'proxy http://127.0.0.1:1 (network.proxy): connection refused: nothing listens there',
      failure: 'refused',
      source: 'network.proxy',
    });
    expect(describeNetworkError(refused)).toBe(
      'proxy http://127.0.0.1:1 (network.proxy): connection refused: nothing listens there; check that the proxy runs and that network.proxy names it',
    );
    const forbidden = wrapped({
      code: 'PHX_PROXY_FAILED',
      message: 'proxy http://p:3128 (HTTPS_PROXY): answered CONNECT h:4001 with HTTP 403 Forbidden',
      failure: 'status',
      proxyStatusCode: 403,
      target: 'h:4001',
    });
    expect(describeNetworkError(forbidden)).toContain('the proxy does not allow a tunnel to h:4001');
  });

  it('points a pin mismatch at auth.server_pins, and leaves other errors alone', () => {
    const pin = wrapped({ code: 'AUTH_SERVER_PIN_MISMATCH', message: 'certificate pin mismatch: …' });
    expect(describeNetworkError(pin)).toBe(
      "certificate pin mismatch: …. If the server's key changed on purpose, put the new pin in auth.server_pins",
    );
    expect(describeNetworkError(new Error('x'))).toBeUndefined();
  });
});
