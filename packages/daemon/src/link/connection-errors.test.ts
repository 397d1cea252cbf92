import { RedirectRefusedError, UpgradeRejectedError } from '@nerves-hub-link/phoenix-channel';
import { describe, expect, it } from 'vitest';
import { describeNetworkError, explainConnectionError, isUriProblem } from './connection-errors.js';

const refused = (status: number, headers: Record<string, string> = {}) =>
  new UpgradeRejectedError(status, headers);

describe('explainConnectionError', () => {
  it('401 with a shared secret: the keys to check, and the clock when the server is far off', () => {
    const facts = { method: 'shared_secret', uri: 'wss://hub.example/device-socket/websocket' } as const;
    expect(explainConnectionError(refused(401), facts)).toBe(
      "NervesHub refused the shared-secret signature (HTTP 401): check auth.key and auth.secret: a product key (nhp_…) goes with its product's secret, a device key (nhd_…) with that device's secret and its identifier; shared secrets must also be enabled on the server",
    );
    const withClock = explainConnectionError(refused(401), {
      ...facts,
      secretFile: '/etc/nhl/secret',
      serverClockOffsetMs: () => 312_000,
    });
    expect(withClock).toContain('check auth.key and auth.secret_file (/etc/nhl/secret)');
    expect(withClock).toMatch(
      /The device clock is 312 s behind the server's \(its Date header\): set the device clock/,
    );
    expect(
      explainConnectionError(refused(401), { ...facts, serverClockOffsetMs: () => 5_000 }),
    ).not.toContain('clock');
  });

  it('401 with mTLS: the certificate is unknown to NervesHub', () => {
    const text = explainConnectionError(refused(401), {
      method: 'mtls',
      uri: 'wss://hub.example/socket/websocket',
      certFile: '/etc/nhl/cert.pem',
    });
    expect(text).toMatch(
      /^NervesHub refused the device certificate \(HTTP 401\): it does not know this certificate/,
    );
    expect(text).toContain('(auth.cert_file = /etc/nhl/cert.pem) or the CA that signed it');
  });

  it('404 or a redirect: the path NervesHub expects for the auth method, as a uri to copy', () => {
    expect(
      explainConnectionError(refused(404), {
        method: 'mtls',
        uri: 'wss://hub.example:4001/device-socket/websocket',
      }),
    ).toBe(
      'NervesHub has no device socket at /device-socket/websocket (HTTP 404): certificate (mTLS) devices connect to ' +
        '/socket/websocket; set uri = "wss://hub.example:4001/socket/websocket"',
    );
    const redirect = new RedirectRefusedError('too-many', 'more than 2 redirect(s)', {
      statusCode: 301,
      headers: {},
    });
    expect(
      explainConnectionError(redirect, {
        method: 'shared_secret',
        uri: 'wss://hub.example/socket/websocket',
      }),
    ).toBe(
      'NervesHub has no device socket at /socket/websocket (HTTP 301, a redirect): shared-secret devices connect to ' +
        '/device-socket/websocket; set uri = "wss://hub.example/device-socket/websocket"',
    );
    expect(
      explainConnectionError(refused(404), {
        method: 'shared_secret',
        uri: 'wss://web.example/device-socket/websocket',
      }),
    ).toMatch(
      /^web\.example answered the WebSocket upgrade on \/device-socket\/websocket with HTTP 404 .*not its web interface$/,
    );
  });

  it('a redirect to another site: not followed, the paths NervesHub serves, the uri to write', () => {
    const crossOrigin = (location: string) =>
      new RedirectRefusedError('cross-origin', 'another origin', { statusCode: 301, headers: { location } });
    const error = crossOrigin('https://docs.nerves-hub.org/?from=device');
    const wrong = { method: 'shared_secret', uri: 'wss://hub.example/websocket' } as const;
    expect(isUriProblem(error)).toBe(true);
    expect(explainConnectionError(error, wrong)).toBe(
      'hub.example/websocket redirected the WebSocket upgrade (HTTP 301) to another site, ' +
        "https://docs.nerves-hub.org/; not followed: the device's credentials are only sent to hub.example. " +
        'NervesHub redirects every path it has no device socket on: devices connect to /socket/websocket or ' +
        '/device-socket/websocket (on the device endpoint both accept either auth method; a web host serves only ' +
        '/device-socket/websocket); set uri = "wss://hub.example/device-socket/websocket"',
    );
    expect(
      explainConnectionError(crossOrigin('https://other.example/elsewhere'), {
        method: 'mtls',
        uri: 'wss://hub.example:4001/socket/websocket',
      }),
    ).toMatch(/to another site, https:\/\/other\.example\/elsewhere;.* the path is right, so check that uri/);
    expect(isUriProblem(new RedirectRefusedError('too-many', 'x', { statusCode: 302, headers: {} }))).toBe(
      false,
    );
    expect(isUriProblem(refused(404))).toBe(false);
  });

  it("403 at /socket/websocket: the web host's browser socket, and where devices go instead", () => {
    expect(
      explainConnectionError(refused(403), {
        method: 'shared_secret',
        uri: 'wss://hub.example/socket/websocket',
      }),
    ).toBe(
      "hub.example refused /socket/websocket with HTTP 403: on NervesHub's web host /socket is the browsers' " +
        'socket, not a device socket. Shared-secret devices connect there to /device-socket/websocket; ' +
        'set uri = "wss://hub.example/device-socket/websocket"',
    );
    expect(
      explainConnectionError(refused(403), { method: 'mtls', uri: 'wss://hub.example/socket/websocket' }),
    ).toMatch(
      /Certificate \(mTLS\) devices connect to NervesHub's device endpoint .*check the host and port/,
    );
    expect(
      explainConnectionError(refused(403), {
        method: 'mtls',
        uri: 'wss://hub.example/device-socket/websocket',
      }),
    ).toBe('WebSocket upgrade rejected with HTTP 403');
  });

  it("adds NervesHub's nh-connection-error-reason header to an answer it does not explain", () => {
    const reason = 'the platform could not be reached to authenticate this device';
    expect(
      explainConnectionError(refused(503, { 'nh-connection-error-reason': reason }), {
        method: 'mtls',
        uri: 'wss://h/socket/websocket',
      }),
    ).toBe(`WebSocket upgrade rejected with HTTP 503 (${reason})`);
  });

  it('leaves other errors as they are', () => {
    expect(explainConnectionError(refused(503), { method: 'mtls', uri: 'wss://h/socket/websocket' })).toBe(
      'WebSocket upgrade rejected with HTTP 503',
    );
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
