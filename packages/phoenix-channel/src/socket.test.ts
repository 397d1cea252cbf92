import { describe, expect, it } from 'vitest';
import { Socket } from './socket.js';

const url = 'ws://127.0.0.1:9/socket/websocket';

describe('Socket', () => {
  describe('constructor', () => {
    it.each([
      ['a relative URL', () => new Socket('/socket')],
      ['an ftp URL', () => new Socket('ftp://h/x')],
      ['a zero heartbeat interval', () => new Socket(url, { heartbeatIntervalMs: 0 })],
      ['a negative connect timeout', () => new Socket(url, { connectTimeoutMs: -1 })],
      ['a non-function backoff', () => new Socket(url, { reconnectAfterMs: 5 as never })],
      ['params as an array', () => new Socket(url, { params: [] as never })],
      ['headers as a string', () => new Socket(url, { headers: 'x' as never })],
      ['tls as a string', () => new Socket(url, { tls: 'x' as never })],
      ['maxFrameBytes NaN', () => new Socket(url, { maxFrameBytes: Number.NaN })],
      ['negative maxRedirects', () => new Socket(url, { maxRedirects: -1 })],
      ['fractional maxRedirects', () => new Socket(url, { maxRedirects: 1.5 })],
      ['maxRedirects as a string', () => new Socket(url, { maxRedirects: '2' as never })],
      ['timers without clearTimeout', () => new Socket(url, { timers: { setTimeout } as never })],
    ])('refuses %s with `PHX_INVALID_ARGUMENT`', (_name, make) => {
      expect(make).toThrow(expect.objectContaining({ code: 'PHX_INVALID_ARGUMENT' }));
    });

    it('names the kind of a bad params, headers or tls value, never the value (it may be a secret)', () => {
      expect(() => new Socket(url, { headers: 'Bearer s3cret' as never })).toThrow(
        'headers: expected an object or a function returning one, got a string',
      );
      expect(() => new Socket(url, { params: ['s3cret'] as never })).toThrow(/^params: .* got an array$/);
      // A PEM key passed where the options object belongs.
      expect(() => new Socket(url, { tls: '-----BEGIN PRIVATE KEY-----\nMIIEv' as never })).toThrow(
        'tls: expected an object, got a string',
      );
    });

    it('starts idle and not connected', () => {
      const socket = new Socket(url);
      expect(socket.state).toBe('idle');
      expect(socket.isConnected()).toBe(false);
      expect(socket.localAddress).toBeUndefined();
    });
  });

  describe('#channel', () => {
    it('refuses a second live channel on one topic with `PHX_INVALID_STATE`', () => {
      const socket = new Socket(url);
      socket.channel('room');
      expect(() => socket.channel('room')).toThrow(expect.objectContaining({ code: 'PHX_INVALID_STATE' }));
    });
  });

  describe('#close', () => {
    it('resolves at once when never connected', async () => {
      const socket = new Socket(url);
      await socket.close();
      expect(socket.state).toBe('idle');
    });
  });

  describe('#flush', () => {
    it('resolves true at once with nothing queued', async () => {
      await expect(new Socket(url).flush()).resolves.toBe(true);
    });

    it('validates `timeoutMs`', () => {
      expect(() => new Socket(url).flush({ timeoutMs: -1 })).toThrow(
        expect.objectContaining({ code: 'PHX_INVALID_ARGUMENT' }),
      );
    });
  });
});
