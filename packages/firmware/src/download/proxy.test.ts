import { describe, expect, it } from 'vitest';
import { proxyFailure, proxyFor } from './proxy.js';

const proxy = proxyFor(
  { url: 'http://proxy.example:3128', source: 'network.proxy' },
  new URL('https://fw/'),
)!;

describe('proxyFor', () => {
  it('keeps credentials out of what is shown and sends them percent-decoded', () => {
    const route = proxyFor('http://dev%40ice:p%3Ass@proxy.example:3128', new URL('https://fw.example/a.fw'));
    expect(route).toEqual({
      shown: 'http://proxy.example:3128',
      source: undefined,
      authorization: `Basic ${Buffer.from('dev@ice:p:ss').toString('base64')}`,
    });
  });

  it('asks a function per URL; undefined is direct', () => {
    const pick = (url: URL) => (url.hostname.endsWith('.example') ? 'http://proxy:8080' : undefined);
    expect(proxyFor(pick, new URL('https://cdn.example/x'))?.shown).toBe('http://proxy:8080');
    expect(proxyFor(pick, new URL('https://10.0.0.1/x'))).toBeUndefined();
  });

  it('refuses what it cannot use with FW_PROXY_INVALID, never echoing credentials', () => {
    for (const url of [
      'https://u:pw@proxy:443',
      'socks5://u:pw@proxy:1080',
      'http://u:pw@proxy:3128/p',
      'http://[',
    ]) {
      let error: { code?: string; message: string } | undefined;
      try {
        proxyFor(url, new URL('https://fw/'));
      } catch (caught) {
        error = caught as { code?: string; message: string };
      }
      expect(error?.code).toBe('FW_PROXY_INVALID');
      expect(error?.message).not.toContain('pw');
    }
  });
});

describe('proxyFailure', () => {
  const failed = (cause: object) =>
    proxyFailure(
      Object.assign(new Error(String((cause as { message?: string }).message ?? 'x')), cause),
      proxy,
    );

  it('reads the status of a CONNECT that was not answered 200', () => {
    const auth = failed({
      message: 'Proxy response (407) !== 200 when HTTP Tunneling',
      code: 'UND_ERR_ABORTED',
    });
    expect(auth?.code).toBe('FW_PROXY_REFUSED');
    expect(auth?.message).toBe(
      'proxy error: proxy http://proxy.example:3128 (network.proxy) requires credentials (HTTP 407): put them in the proxy URL, http://user:password@host:port',
    );
    expect(failed({ message: 'Proxy response (403) !== 200 when HTTP Tunneling' })?.code).toBe(
      'FW_PROXY_REFUSED',
    );
    const upstream = failed({ message: 'Proxy response (502) !== 200 when HTTP Tunneling' });
    expect(upstream?.code).toBe('FW_PROXY');
    expect(upstream?.message).toContain('answered CONNECT with HTTP 502');
  });

  it("names connection failures as the proxy's, and leaves other errors alone", () => {
    expect(failed({ code: 'ECONNREFUSED' })?.message).toContain('connection refused: nothing listens there');
    expect(failed({ code: 'ENOTFOUND' })?.message).toContain('cannot be reached (ENOTFOUND)');
    expect(failed({ code: 'UND_ERR_CONNECT_TIMEOUT' })?.message).toContain('timed out');
    expect(failed({ code: 'ECONNRESET' })).toBeUndefined();
    expect(failed({ code: 'CERT_HAS_EXPIRED' })).toBeUndefined();
  });
});
