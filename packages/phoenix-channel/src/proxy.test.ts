import { describe, expect, it } from 'vitest';
import { authority, proxyFor, redactCredentials, resolveProxy } from './proxy.js';

describe('resolveProxy', () => {
  it('keeps the credentials out of what is shown and sends them percent-decoded', () => {
    const proxy = resolveProxy({ url: 'http://al%40ice:p%3Ass@proxy.example:3128', source: 'HTTPS_PROXY' });
    expect(proxy).toEqual({
      host: 'proxy.example',
      port: 3128,
      shown: 'http://proxy.example:3128',
      source: 'HTTPS_PROXY',
      authorization: `Basic ${Buffer.from('al@ice:p:ss').toString('base64')}`,
    });
  });

  it('defaults to port 80, takes IPv6 addresses and a user without a password', () => {
    expect(resolveProxy('http://[::1]')).toMatchObject({ host: '::1', port: 80, shown: 'http://[::1]' });
    expect(resolveProxy('http://token@proxy:8080').authorization).toBe(
      `Basic ${Buffer.from('token:').toString('base64')}`,
    );
    expect(resolveProxy(new URL('http://proxy:8080/')).authorization).toBeUndefined();
  });

  it('refuses other schemes, paths and garbage, naming the source and never the credentials', () => {
    expect(() => resolveProxy({ url: 'https://u:secret@proxy:443', source: 'network.proxy' })).toThrow(
      'proxy (network.proxy): only http:// proxies are supported',
    );
    expect(() => resolveProxy('http://u:secret@proxy:3128/x?y')).toThrow(/without a path or query/);
    let message = '';
    try {
      resolveProxy('http://u:secret@[bad');
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).toMatch(/^proxy: expected an http:\/\/host:port URL/);
    expect(message).not.toContain('secret');
    expect(() => resolveProxy('proxy.example:3128')).toThrow(/only http:\/\/ proxies/);
  });
});

describe('proxyFor', () => {
  it('calls a function with the target and treats undefined as direct', () => {
    const seen: string[] = [];
    const option = (target: URL) => {
      seen.push(target.host);
      return target.hostname === 'far.example' ? 'http://proxy:3128' : undefined;
    };
    expect(proxyFor(option, new URL('wss://near.example/socket'))).toBeUndefined();
    expect(proxyFor(option, new URL('wss://far.example:4000/socket'))?.shown).toBe('http://proxy:3128');
    expect(seen).toEqual(['near.example', 'far.example:4000']);
    expect(proxyFor(undefined, new URL('wss://x/'))).toBeUndefined();
  });
});

describe('helpers', () => {
  it('redacts userinfo and writes IPv6 authorities in brackets', () => {
    expect(redactCredentials('http://user:pw@proxy:3128')).toBe('http://***@proxy:3128');
    expect(redactCredentials('http://proxy:3128/a@b')).toBe('http://proxy:3128/a@b');
    expect(authority('2001:db8::1', 443)).toBe('[2001:db8::1]:443');
    expect(authority('device.example', 8443)).toBe('device.example:8443');
  });
});
