import { describe, expect, it } from 'vitest';
import {
  buildClientOptions,
  buildHeaders,
  buildUrl,
  flattenHeaders,
  parseEndpoint,
  redactUrl,
} from './transport.js';

describe('parseEndpoint', () => {
  it('accepts ws: and wss:, and maps http: and https: to them', () => {
    expect(parseEndpoint('ws://h/socket/websocket').protocol).toBe('ws:');
    expect(parseEndpoint('https://h:8443/socket/websocket').href).toBe('wss://h:8443/socket/websocket');
    expect(parseEndpoint('http://h/x').protocol).toBe('ws:');
  });

  it('refuses other schemes, fragments and non-URLs with `PHX_INVALID_ARGUMENT`', () => {
    for (const url of ['ftp://h/x', 'ws://h/x#frag', 'not a url', '/relative']) {
      expect(() => parseEndpoint(url)).toThrow(expect.objectContaining({ code: 'PHX_INVALID_ARGUMENT' }));
    }
  });
});

describe('buildUrl', () => {
  it('keeps the endpoint query, adds params and always sets `vsn=2.0.0`', () => {
    const url = new URL(
      buildUrl(parseEndpoint('wss://h/socket/websocket?a=1&vsn=3.0.0'), { b: 2, c: true, d: null }),
    );
    expect(url.searchParams.get('a')).toBe('1');
    expect(url.searchParams.get('b')).toBe('2');
    expect(url.searchParams.get('c')).toBe('true');
    expect(url.searchParams.has('d')).toBe(false);
    expect(url.searchParams.getAll('vsn')).toEqual(['2.0.0']);
  });

  it('sets `vsn` even for a param named vsn', () => {
    const url = new URL(buildUrl(parseEndpoint('ws://h/s'), { vsn: '1.0.0' }));
    expect(url.searchParams.getAll('vsn')).toEqual(['2.0.0']);
  });
});

describe('redactUrl', () => {
  it('drops credentials and the query', () => {
    expect(redactUrl('wss://user:pw@h:1/socket/websocket?token=secret')).toBe('wss://h:1/socket/websocket');
  });
});

describe('buildHeaders', () => {
  it('drops any Origin header', () => {
    expect(buildHeaders({ origin: 'x', ORIGIN: 'y', 'x-nh-signature': 's' })).toEqual({
      'x-nh-signature': 's',
    });
  });

  it('refuses non-string values without echoing them', () => {
    let message = '';
    try {
      buildHeaders({ 'x-secret': 12345 as unknown as string });
    } catch (error) {
      expect(error).toMatchObject({ code: 'PHX_INVALID_ARGUMENT' });
      message = (error as Error).message;
    }
    expect(message).not.toContain('12345');
    expect(message).toContain('x-secret');
  });
});

describe('buildClientOptions', () => {
  const base = { headers: { a: 'b' }, perMessageDeflate: false, maxPayload: 4096, closeTimeoutMs: 100 };

  it('passes the TLS options through and always verifies the server', () => {
    const options = buildClientOptions({
      ...base,
      tls: {
        ca: 'CA',
        cert: 'CERT',
        key: 'KEY',
        privateKeyEngine: 'pkcs11',
        privateKeyIdentifier: 'pkcs11:object=device;type=private',
        servername: 'device.test',
        minVersion: 'TLSv1.2',
        maxVersion: 'TLSv1.3',
        rejectUnauthorized: false,
      } as never,
    }) as Record<string, unknown>;
    expect(options).toMatchObject({
      ca: 'CA',
      cert: 'CERT',
      key: 'KEY',
      privateKeyEngine: 'pkcs11',
      privateKeyIdentifier: 'pkcs11:object=device;type=private',
      servername: 'device.test',
      minVersion: 'TLSv1.2',
      maxVersion: 'TLSv1.3',
      rejectUnauthorized: true,
      headers: { a: 'b' },
      perMessageDeflate: false,
      maxPayload: 4096,
      closeTimeout: 100,
      followRedirects: false,
    });
    expect(options).not.toHaveProperty('origin');
  });
});

describe('flattenHeaders', () => {
  it('lowercases names and joins repeated values', () => {
    expect(flattenHeaders({ date: 'D', 'set-cookie': ['a', 'b'], missing: undefined })).toEqual({
      date: 'D',
      'set-cookie': 'a, b',
    });
  });
});
