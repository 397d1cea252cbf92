import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  JoinRefusedError,
  PhoenixChannelError,
  type PhoenixChannelErrorCode,
  ProxyError,
  RedirectRefusedError,
  UpgradeRejectedError,
} from './errors.js';

/** The closed set, spelled out: `satisfies` fails the typecheck if it and the union drift apart either way. */
const CODES = {
  PHX_INVALID_ARGUMENT: true,
  PHX_INVALID_STATE: true,
  PHX_ENCODE_FAILED: true,
  PHX_DECODE_FAILED: true,
  PHX_CONNECT_FAILED: true,
  PHX_CONNECT_TIMEOUT: true,
  PHX_PROXY_FAILED: true,
  PHX_UPGRADE_REJECTED: true,
  PHX_HEARTBEAT_TIMEOUT: true,
  PHX_TRANSPORT_ERROR: true,
  PHX_SOCKET_CLOSED: true,
  PHX_JOIN_REFUSED: true,
  PHX_JOIN_TIMEOUT: true,
  PHX_JOIN_PARAMS_FAILED: true,
  PHX_CHANNEL_ERRORED: true,
  PHX_CHANNEL_CLOSED: true,
  PHX_PUSH_TIMEOUT: true,
  PHX_NOT_JOINED: true,
  PHX_BUFFER_FULL: true,
  PHX_ABORTED: true,
  PHX_HANDLER_FAILED: true,
} as const satisfies Record<PhoenixChannelErrorCode, true>;

const srcDir = new URL('./', import.meta.url);

describe('errors', () => {
  it('keeps code, name and cause', () => {
    const cause = new Error('inner');
    const error = new PhoenixChannelError('PHX_CONNECT_FAILED', 'failed', { cause });
    expect(error).toMatchObject({ name: 'PhoenixChannelError', code: 'PHX_CONNECT_FAILED', cause });
  });

  it('gives UpgradeRejectedError its status and every header, and a message of the status alone', () => {
    const error = new UpgradeRejectedError(401, { date: 'D', 'x-refusal-reason': 'Device not found' });
    expect(error).toMatchObject({
      code: 'PHX_UPGRADE_REJECTED',
      statusCode: 401,
      name: 'UpgradeRejectedError',
    });
    expect(error.headers).toEqual({ date: 'D', 'x-refusal-reason': 'Device not found' });
    // What a server writes in its own headers means something only to a caller that knows that server.
    expect(error.message).toBe('WebSocket upgrade rejected with HTTP 401');
    const named = new UpgradeRejectedError(503, { 'nh-connection-error-reason': 'platform down' });
    expect(named.message).toBe('WebSocket upgrade rejected with HTTP 503');
    expect(named.headers['nh-connection-error-reason']).toBe('platform down');
  });

  it('gives JoinRefusedError the reply', () => {
    const error = new JoinRefusedError('device', 'error', { reason: 'join crashed' });
    expect(error).toMatchObject({
      code: 'PHX_JOIN_REFUSED',
      topic: 'device',
      response: { reason: 'join crashed' },
    });
  });

  it('gives ProxyError the proxy as shown, its failure and status, never credentials in the message', () => {
    const error = new ProxyError('auth', 'requires credentials (HTTP 407)', {
      proxy: 'http://proxy.example:3128',
      source: 'network.proxy',
      sentCredentials: false,
      target: 'hub.example:443',
      statusCode: 407,
    });
    expect(error).toMatchObject({
      name: 'ProxyError',
      code: 'PHX_PROXY_FAILED',
      failure: 'auth',
      proxy: 'http://proxy.example:3128',
      source: 'network.proxy',
      target: 'hub.example:443',
      proxyStatusCode: 407,
      sentCredentials: false,
    });
    expect(error.message).toBe(
      'proxy http://proxy.example:3128 (network.proxy): requires credentials (HTTP 407)',
    );
  });

  it('names every error class after itself and gives it a code of the closed set', () => {
    const response = { statusCode: 302, headers: { location: 'https://elsewhere/' } };
    const made: Error[] = [
      new PhoenixChannelError('PHX_ABORTED', 'x'),
      new UpgradeRejectedError(503, {}),
      new RedirectRefusedError('cross-origin', 'elsewhere', response, 'wss://elsewhere/'),
      new JoinRefusedError('t', 'error', {}),
      new ProxyError('closed', 'x', {
        proxy: 'http://p:1',
        source: undefined,
        sentCredentials: false,
        target: 'h:1',
      }),
    ];
    for (const error of made) {
      expect(error.name).toBe(error.constructor.name);
      expect(Object.keys(CODES)).toContain((error as PhoenixChannelError).code);
    }
    // Every class the module defines is among those made above.
    const classes = [...readFileSync(new URL('errors.ts', srcDir), 'utf8').matchAll(/^export class (\w+)/gm)];
    expect(classes.map((match) => match[1]).sort()).toEqual(
      made.map((error) => error.constructor.name).sort(),
    );
  });

  it('defines every error class in errors.ts and uses no code outside the closed set', () => {
    for (const file of readdirSync(srcDir).filter(
      (name) => name.endsWith('.ts') && !name.endsWith('.test.ts'),
    )) {
      const text = readFileSync(new URL(file, srcDir), 'utf8');
      if (file !== 'errors.ts') expect(text, file).not.toMatch(/class \w+ extends \w*Error\b/);
      for (const [code] of text.matchAll(/\bPHX_[A-Z_]+\b/g))
        expect(Object.keys(CODES), file).toContain(code);
    }
  });

  it('lists every code in the README', () => {
    const readme = readFileSync(new URL('../README.md', srcDir), 'utf8');
    const section = readme.slice(
      readme.indexOf('## Error codes'),
      readme.indexOf('\n## ', readme.indexOf('## Error codes') + 1),
    );
    const listed = new Set([...section.matchAll(/`(PHX_[A-Z_]+)`/g)].map((match) => match[1]));
    expect([...listed].sort()).toEqual(Object.keys(CODES).sort());
  });
});
