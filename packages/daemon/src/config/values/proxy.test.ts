import { describe, expect, it } from 'vitest';
import { checkProxyUrl, noProxyMatch, parseNoProxyEntry, parseNoProxyList } from './proxy.js';

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
