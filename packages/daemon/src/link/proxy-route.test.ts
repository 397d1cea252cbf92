import { describe, expect, it } from 'vitest';
import { proxySettings } from './proxy-route.js';

const target = (url: string) => new URL(url);

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
