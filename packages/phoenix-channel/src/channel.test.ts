import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { Channel, type ChannelHooks, type ChannelHost } from './channel.js';
import type { ChannelOptions } from './channel-options.js';
import { PhoenixChannelError } from './errors.js';
import { SYSTEM_TIMERS } from './timer.js';

type Frame = [string | null, string | null, string, string, unknown];

/** A socket stand-in: records frames, lets the test open, close and deliver messages. */
function fakeSocket() {
  const frames: Frame[] = [];
  const reported: PhoenixChannelError[] = [];
  const warnings: Array<Record<string, unknown> | undefined> = [];
  let connected = false;
  let ref = 0;
  let hooks: ChannelHooks | undefined;
  let detached = false;
  const host: ChannelHost = {
    logger: { warn: (_message, fields) => warnings.push(fields) },
    timers: SYSTEM_TIMERS,
    isConnected: () => connected,
    makeRef: () => String(++ref),
    sendFrame: (text) => {
      if (!connected) return false;
      frames.push(JSON.parse(text) as Frame);
      return true;
    },
    report: (error) => reported.push(error),
    bufferChanged: () => {},
    attach: (h) => {
      hooks = h;
    },
    detach: () => {
      detached = true;
    },
  };
  return {
    host,
    frames,
    reported,
    warnings,
    get detached() {
      return detached;
    },
    open() {
      connected = true;
      ref = 0;
      hooks!.onSocketOpen();
    },
    drop() {
      connected = false;
      hooks!.onSocketClose(new PhoenixChannelError('PHX_SOCKET_CLOSED', 'gone'));
    },
    terminate() {
      connected = false;
      hooks!.terminate(new PhoenixChannelError('PHX_SOCKET_CLOSED', 'closed'));
    },
    receive(frame: Frame) {
      hooks!.onMessage({
        joinRef: frame[0],
        ref: frame[1],
        topic: frame[2],
        event: frame[3],
        payload: frame[4],
      });
    },
    /** Replies to the last frame with `event`. */
    reply(event: string, status: string, response: unknown = {}) {
      const frame = [...frames].reverse().find((f) => f[3] === event)!;
      this.receive([frame[0], frame[1], frame[2], 'phx_reply', { status, response }]);
    },
    events(event: string) {
      return frames.filter((f) => f[3] === event);
    },
  };
}

function makeChannel(options: ChannelOptions = {}, params: ConstructorParameters<typeof Channel>[1] = {}) {
  const socket = fakeSocket();
  const channel = new Channel(
    'room',
    params,
    { rejoinAfterMs: (attempt) => attempt * 1000, ...options },
    socket.host,
  );
  return { socket, channel };
}

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

describe('Channel', () => {
  describe('constructor', () => {
    it('validates its arguments with `PHX_INVALID_ARGUMENT`', () => {
      const { host } = fakeSocket();
      const bad: Array<() => unknown> = [
        () => new Channel('', {}, {}, host),
        () => new Channel('t', 5 as unknown as object, {}, host),
        () => new Channel('t', {}, { joinTimeoutMs: -1 }, host),
        () => new Channel('t', {}, { maxBufferedPushes: Number.NaN }, host),
        () => new Channel('t', {}, { rejoinAfterMs: 5 as unknown as () => number }, host),
      ];
      for (const make of bad) expect(make).toThrow(expect.objectContaining({ code: 'PHX_INVALID_ARGUMENT' }));
    });
  });

  describe('#join', () => {
    it('waits for the socket, then sends phx_join with ref == join_ref', async () => {
      const { socket, channel } = makeChannel();
      const joined = channel.join();
      expect(channel.state).toBe('joining');
      await vi.advanceTimersByTimeAsync(0);
      expect(socket.frames).toEqual([]);
      socket.open();
      await vi.advanceTimersByTimeAsync(0);
      expect(socket.frames).toEqual([['1', '1', 'room', 'phx_join', {}]]);
      socket.reply('phx_join', 'ok', { hello: 1 });
      await expect(joined).resolves.toEqual({ hello: 1 });
      expect(channel.state).toBe('joined');
    });

    it('evaluates a params function at every join', async () => {
      let n = 0;
      const { socket, channel } = makeChannel({}, () => ({ n: ++n }));
      socket.open();
      void channel.join();
      await vi.advanceTimersByTimeAsync(0);
      socket.reply('phx_join', 'ok');
      socket.drop();
      socket.open();
      await vi.advanceTimersByTimeAsync(0);
      expect(socket.events('phx_join').map((f) => f[4])).toEqual([{ n: 1 }, { n: 2 }]);
    });

    it('backs off rejoins by attempt after refusals and resets the count after a success', async () => {
      const { socket, channel } = makeChannel();
      socket.open();
      void channel.join();
      await vi.advanceTimersByTimeAsync(0);
      socket.reply('phx_join', 'error', { reason: 'no' });
      expect(channel.state).toBe('errored');
      await vi.advanceTimersByTimeAsync(999);
      expect(socket.events('phx_join')).toHaveLength(1);
      await vi.advanceTimersByTimeAsync(1);
      expect(socket.events('phx_join')).toHaveLength(2);
      socket.reply('phx_join', 'error');
      await vi.advanceTimersByTimeAsync(1999);
      expect(socket.events('phx_join')).toHaveLength(2);
      await vi.advanceTimersByTimeAsync(1);
      socket.reply('phx_join', 'ok');
      socket.receive([channel.joinRef, null, 'room', 'phx_error', {}]);
      await vi.advanceTimersByTimeAsync(1000);
      expect(socket.events('phx_join')).toHaveLength(4);
    });

    it('times out after `joinTimeoutMs`, sends phx_leave for that join and retries', async () => {
      const { socket, channel } = makeChannel({ joinTimeoutMs: 500 });
      const errors: string[] = [];
      channel.on('join_error', (error) => errors.push(error.code));
      socket.open();
      void channel.join();
      await vi.advanceTimersByTimeAsync(500);
      expect(errors).toEqual(['PHX_JOIN_TIMEOUT']);
      expect(socket.events('phx_leave')).toEqual([['1', '2', 'room', 'phx_leave', {}]]);
      await vi.advanceTimersByTimeAsync(1000);
      expect(socket.events('phx_join').map((f) => f[0])).toEqual(['1', '3']);
    });

    it('does not rejoin on a timer while the socket is down, but at once when it opens', async () => {
      const { socket, channel } = makeChannel();
      socket.open();
      void channel.join();
      await vi.advanceTimersByTimeAsync(0);
      socket.reply('phx_join', 'ok');
      socket.drop();
      expect(channel.state).toBe('errored');
      await vi.advanceTimersByTimeAsync(60_000);
      expect(socket.events('phx_join')).toHaveLength(1);
      socket.open();
      await vi.advanceTimersByTimeAsync(0);
      expect(socket.events('phx_join')).toHaveLength(2);
    });
  });

  describe('#push', () => {
    it('keeps the channel joined when a push times out', async () => {
      const { socket, channel } = makeChannel();
      socket.open();
      void channel.join();
      await vi.advanceTimersByTimeAsync(0);
      socket.reply('phx_join', 'ok');
      const push = channel.push('ask', {}, { timeoutMs: 100 });
      const settled = expect(push).rejects.toMatchObject({ code: 'PHX_PUSH_TIMEOUT' });
      await vi.advanceTimersByTimeAsync(100);
      await settled;
      expect(channel.state).toBe('joined');
      expect(vi.getTimerCount()).toBe(0);
    });

    it('fails sent pushes with `PHX_SOCKET_CLOSED` on a disconnect but keeps buffered ones', async () => {
      const { socket, channel } = makeChannel();
      socket.open();
      void channel.join();
      await vi.advanceTimersByTimeAsync(0);
      socket.reply('phx_join', 'ok');
      const sent = channel.push('a', {}).catch((error: PhoenixChannelError) => error.code);
      socket.drop();
      const buffered = channel.push('b', {});
      expect(await sent).toBe('PHX_SOCKET_CLOSED');
      socket.open();
      await vi.advanceTimersByTimeAsync(0);
      socket.reply('phx_join', 'ok');
      expect(socket.events('b')).toHaveLength(1);
      socket.reply('b', 'ok', 'done');
      await expect(buffered).resolves.toEqual({ status: 'ok', response: 'done' });
    });
  });

  describe('#send onSent', () => {
    it('fires when the frame is handed to the socket: at once when joined, after the next join when buffered', async () => {
      const { socket, channel } = makeChannel();
      const sent: string[] = [];
      socket.open();
      void channel.join();
      await vi.advanceTimersByTimeAsync(0);
      socket.reply('phx_join', 'ok');
      channel.send('now', {}, { onSent: () => sent.push(`now:${socket.events('now').length}`) });
      expect(sent).toEqual(['now:1']);
      socket.drop();
      channel.send('later', {}, { onSent: () => sent.push(`later:${socket.events('later').length}`) });
      expect(sent).toEqual(['now:1']);
      socket.open();
      await vi.advanceTimersByTimeAsync(0);
      expect(sent).toEqual(['now:1']);
      socket.reply('phx_join', 'ok');
      expect(sent).toEqual(['now:1', 'later:1']);
    });

    it('never fires for a buffered message dropped by a close, and reports a throwing callback', async () => {
      const { socket, channel } = makeChannel();
      let dropped = false;
      void channel.join().catch(() => {});
      channel.send('lost', {}, { onSent: () => (dropped = true) });
      socket.terminate();
      expect(dropped).toBe(false);

      const second = makeChannel();
      second.socket.open();
      void second.channel.join();
      await vi.advanceTimersByTimeAsync(0);
      second.socket.reply('phx_join', 'ok');
      second.channel.send(
        'x',
        {},
        {
          onSent: () => {
            throw new Error('boom');
          },
        },
      );
      expect(second.socket.events('x')).toHaveLength(1);
      expect(second.socket.reported.map((error) => error.code)).toEqual(['PHX_HANDLER_FAILED']);
      expect(() => second.channel.send('y', {}, { onSent: 5 as unknown as () => void })).toThrow(
        expect.objectContaining({ code: 'PHX_INVALID_ARGUMENT' }),
      );
    });
  });

  describe('#send signal', () => {
    it('drops a buffered message once its `signal` aborts; one that has left is not affected', async () => {
      const { socket, channel } = makeChannel();
      const sent: string[] = [];
      const stale = new AbortController();
      const fresh = new AbortController();
      void channel.join();
      channel.send('stale', {}, { signal: stale.signal, onSent: () => sent.push('stale') });
      channel.send('fresh', {}, { signal: fresh.signal, onSent: () => sent.push('fresh') });
      expect(channel.bufferedCount).toBe(2);
      stale.abort();
      expect(channel.bufferedCount).toBe(1);
      socket.open();
      await vi.advanceTimersByTimeAsync(0);
      socket.reply('phx_join', 'ok');
      expect(sent).toEqual(['fresh']);
      expect(socket.events('stale')).toHaveLength(0);
      fresh.abort();
      expect(socket.events('fresh')).toHaveLength(1);
    });

    it('sends nothing for a signal aborted already, and refuses a signal that is not an AbortSignal', () => {
      const { socket, channel } = makeChannel();
      socket.open();
      channel.send('never', {}, { signal: AbortSignal.abort() });
      expect(channel.bufferedCount).toBe(0);
      expect(() => channel.send('x', {}, { signal: {} as AbortSignal })).toThrow(
        expect.objectContaining({
          code: 'PHX_INVALID_ARGUMENT',
          message: 'signal: expected an AbortSignal, got an object',
        }),
      );
    });
  });

  describe('termination', () => {
    it('rejects waits and pushes, drops buffered sends with a warning, and detaches', async () => {
      const { socket, channel } = makeChannel();
      const wait = channel.join();
      const push = channel.push('p', {});
      channel.send('s1', {});
      channel.send('s2', {});
      const closed: string[] = [];
      channel.on('closed', (error) => closed.push(error.code));
      socket.terminate();
      await expect(wait).rejects.toMatchObject({ code: 'PHX_SOCKET_CLOSED' });
      await expect(push).rejects.toMatchObject({ code: 'PHX_SOCKET_CLOSED' });
      expect(socket.warnings).toContainEqual({ topic: 'room', count: 2 });
      expect(closed).toEqual(['PHX_SOCKET_CLOSED']);
      expect(socket.detached).toBe(true);
      expect(channel.state).toBe('closed');
      expect(vi.getTimerCount()).toBe(0);
    });
  });

  describe('#on', () => {
    it('validates its arguments', () => {
      const { channel } = makeChannel();
      expect(() => channel.on('x', 5 as unknown as () => void)).toThrow(
        expect.objectContaining({ code: 'PHX_INVALID_ARGUMENT' }),
      );
    });

    it('removes handlers with `off`', () => {
      const { socket, channel } = makeChannel();
      const handler = vi.fn();
      channel.on('evt', handler);
      socket.receive([null, null, 'room', 'evt', 1]);
      channel.off('evt', handler);
      socket.receive([null, null, 'room', 'evt', 2]);
      expect(handler).toHaveBeenCalledTimes(1);
      expect(handler).toHaveBeenCalledWith(1, {
        joinRef: null,
        ref: null,
        topic: 'room',
        event: 'evt',
        payload: 1,
      });
    });
  });
});
