import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { RedirectRefusedError, UpgradeRejectedError } from './errors.js';
import {
  buildClientOptions,
  buildHeaders,
  buildUrl,
  flattenHeaders,
  parseEndpoint,
  REDIRECT_STATUSES,
  type RedirectStep,
  redactUrl,
  redirectTarget,
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
  // The cases of @nerves-hub-link/message-text's redactUrl, whose test checks that the two files agree.
  const cases = JSON.parse(
    readFileSync(new URL('../test/fixtures/redact-url-cases.json', import.meta.url), 'utf8'),
  ) as { url: string; shown: string }[];

  it.each(cases)('shows $url as $shown', ({ url, shown }) => {
    expect(redactUrl(url)).toBe(shown);
    if (shown !== '<invalid url>') expect(redactUrl(new URL(url))).toBe(shown);
  });

  it('cuts a long URL to 300 characters, noting the length of the redacted URL', () => {
    const result = redactUrl(`wss://h.example/${'a'.repeat(900)}?token=${'s'.repeat(900)}`);
    expect(result).toHaveLength(300);
    expect(result).toMatch(/^wss:\/\/h\.example\/a+… \(916 characters\)$/);
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
    expect(message).toBe('headers["x-secret"]: expected a string, got a number');
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

describe('redirectTarget', () => {
  const from = new URL('wss://hub.example/socket/websocket?vsn=2.0.0&token=secret');
  const step = (location: string | undefined, more: Partial<RedirectStep> = {}): RedirectStep => ({
    from,
    statusCode: 301,
    headers: location === undefined ? { date: 'D' } : { date: 'D', location },
    followed: 0,
    maxRedirects: 2,
    visited: new Set([from.href]),
    ...more,
  });
  const refusal = (input: RedirectStep): RedirectRefusedError => {
    try {
      redirectTarget(input);
    } catch (error) {
      expect(error).toBeInstanceOf(RedirectRefusedError);
      return error as RedirectRefusedError;
    }
    throw new Error('the redirect was followed');
  };

  it('follows exactly 301, 302, 303, 307 and 308', () => {
    expect([...REDIRECT_STATUSES].sort()).toEqual([301, 302, 303, 307, 308]);
  });

  it('resolves a relative Location against the URL asked and sets `vsn=2.0.0`', () => {
    expect(redirectTarget(step('/v2/socket/websocket')).href).toBe(
      'wss://hub.example/v2/socket/websocket?vsn=2.0.0',
    );
  });

  it('maps https: and http: to wss: and ws:, drops the fragment and overrides another vsn', () => {
    expect(redirectTarget(step('https://hub.example:443/s/websocket?a=1&vsn=1.0.0#x')).href).toBe(
      'wss://hub.example/s/websocket?a=1&vsn=2.0.0',
    );
    const plain = { from: new URL('ws://h/socket/websocket'), visited: new Set<string>() };
    expect(redirectTarget(step('http://h/device-socket/websocket', plain)).protocol).toBe('ws:');
  });

  it('refuses another origin: another host, port or scheme', () => {
    for (const location of [
      'https://other.example/socket/websocket',
      'wss://hub.example:4443/socket/websocket',
      'https://docs.nerves-hub.org/',
    ]) {
      const error = refusal(step(location));
      expect(error.reason).toBe('cross-origin');
      expect(error.location).toBe(new URL(location.replace(/^https:/, 'wss:')).href);
      expect(error.message).toContain('the credentials are not sent there');
    }
    const plain = { from: new URL('ws://h/socket/websocket'), visited: new Set<string>() };
    expect(refusal(step('wss://h/socket/websocket', plain)).reason).toBe('cross-origin');
  });

  it('refuses a redirect from wss: to ws: (or to http:)', () => {
    for (const location of ['ws://hub.example/socket/websocket', 'http://hub.example/socket/websocket']) {
      const error = refusal(step(location));
      expect(error.reason).toBe('insecure');
      expect(error.location).toBe('ws://hub.example/socket/websocket');
    }
  });

  it('refuses a missing, unparsable or non-WebSocket Location', () => {
    for (const location of [undefined, '', 'http://[bad', 'ftp://hub.example/x']) {
      expect(refusal(step(location)).reason).toBe('bad-location');
    }
  });

  it('refuses a URL already tried as a loop', () => {
    const visited = new Set([from.href, 'wss://hub.example/a?vsn=2.0.0']);
    expect(refusal(step('/a', { visited, followed: 1 })).reason).toBe('loop');
  });

  it('refuses past `maxRedirects`', () => {
    expect(redirectTarget(step('/b', { followed: 1 })).pathname).toBe('/b');
    const error = refusal(step('/b?token=secret', { followed: 2 }));
    expect(error.reason).toBe('too-many');
    expect(error.message).toContain('more than 2');
  });

  it('is an `UpgradeRejectedError` with the status and headers, and never shows the query', () => {
    const error = refusal(step('/b?token=secret', { followed: 2, statusCode: 307 }));
    expect(error).toBeInstanceOf(UpgradeRejectedError);
    expect(error.code).toBe('PHX_UPGRADE_REJECTED');
    expect(error.statusCode).toBe(307);
    expect(error.headers.date).toBe('D');
    expect(error.location).toBe('wss://hub.example/b');
    expect(error.message).not.toContain('secret');
    expect(error.message).toContain('HTTP 307');
  });
});
