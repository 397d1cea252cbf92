// Channels over real ws connections on 127.0.0.1: join, push, send, buffer, rejoin, leave, routing.
import { afterEach, describe, expect, it } from 'vitest';
import type { Channel, JoinRefusedError, Message, PhoenixChannelError, Socket } from '../src/index.js';
import {
  closeAll,
  heldTimers,
  nextChannelEvent,
  nextSocketEvent,
  openSocket,
  track,
  until,
} from './support/helpers.js';
import { type PhoenixServer, startPhoenixServer } from './support/phoenix-server.js';

afterEach(closeAll);

async function setup(
  options: Parameters<typeof openSocket>[1] = {},
): Promise<{ srv: PhoenixServer; socket: Socket; errors: PhoenixChannelError[] }> {
  const srv = track(await startPhoenixServer());
  const { socket, errors } = openSocket(srv.url, options);
  return { srv, socket, errors };
}

function framesOf(srv: PhoenixServer, event: string) {
  return srv.frames.filter((f) => f[3] === event);
}

describe('Channel#join', () => {
  it('sends phx_join with ref == join_ref and resolves with the reply response', async () => {
    const { srv, socket } = await setup();
    srv.onJoin = () => ({ response: { welcome: true } });
    const channel = socket.channel('room:1', { a: 1 });
    const joinedEvents: unknown[] = [];
    channel.on('joined', (response) => joinedEvents.push(response));
    socket.connect();
    await expect(channel.join()).resolves.toEqual({ welcome: true });
    expect(framesOf(srv, 'phx_join')).toEqual([['1', '1', 'room:1', 'phx_join', { a: 1 }]]);
    expect(channel.state).toBe('joined');
    expect(channel.joinRef).toBe('1');
    expect(joinedEvents).toEqual([{ welcome: true }]);
    await expect(channel.join()).resolves.toEqual({ welcome: true });
    expect(framesOf(srv, 'phx_join')).toHaveLength(1);
  });

  it('reports a refused join on `join_error` and retries after `rejoinAfterMs`', async () => {
    const { srv, socket } = await setup();
    let n = 0;
    srv.onJoin = () => (++n < 3 ? { status: 'error', response: { error: 'could not connect' } } : {});
    const attempts: number[] = [];
    const channel = socket.channel(
      'device',
      {},
      {
        rejoinAfterMs: (attempt) => {
          attempts.push(attempt);
          return 30;
        },
      },
    );
    const joinErrors: JoinRefusedError[] = [];
    channel.on('join_error', (error) => joinErrors.push(error as JoinRefusedError));
    socket.connect();
    await channel.join();
    expect(joinErrors.map((e) => [e.code, e.status, e.response])).toEqual([
      ['PHX_JOIN_REFUSED', 'error', { error: 'could not connect' }],
      ['PHX_JOIN_REFUSED', 'error', { error: 'could not connect' }],
    ]);
    expect(attempts).toEqual([1, 2]);
  });

  it('retries a join with no reply after `joinTimeoutMs`, leaving the old one and ignoring its late reply', async () => {
    const { srv, socket } = await setup();
    let first = true;
    srv.onJoin = () => {
      if (first) {
        first = false;
        return { noReply: true };
      }
      return { response: { second: true } };
    };
    const channel = socket.channel('room:1', {}, { joinTimeoutMs: 100, rejoinAfterMs: () => 150 });
    socket.connect();
    const joinError = nextChannelEvent(channel, 'join_error');
    const joinPromise = channel.join();
    expect(((await joinError) as PhoenixChannelError).code).toBe('PHX_JOIN_TIMEOUT');
    const firstJoin = framesOf(srv, 'phx_join')[0]!;
    await srv.waitForFrame((f) => f[3] === 'phx_leave' && f[0] === firstJoin[0]);
    // The late reply to the first join arrives while the channel waits to rejoin: it must not count.
    srv.current!.send([
      firstJoin[0],
      firstJoin[1],
      'room:1',
      'phx_reply',
      { status: 'ok', response: { stale: 1 } },
    ]);
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(channel.state).toBe('errored');
    await expect(joinPromise).resolves.toEqual({ second: true });
    expect(channel.joinRef).toBe(framesOf(srv, 'phx_join')[1]![0]);
    expect(channel.joinRef).not.toBe(firstJoin[0]);
  });

  it('evaluates params at each join and reports a failing params function as `PHX_JOIN_PARAMS_FAILED`', async () => {
    const { srv, socket } = await setup();
    let calls = 0;
    const channel = socket.channel(
      'room:1',
      async () => {
        calls += 1;
        if (calls === 1) throw new Error('fw_printenv failed');
        return { call: calls };
      },
      { rejoinAfterMs: () => 20 },
    );
    socket.connect();
    const joinError = nextChannelEvent(channel, 'join_error');
    await channel.join();
    expect(((await joinError) as PhoenixChannelError).code).toBe('PHX_JOIN_PARAMS_FAILED');
    expect(framesOf(srv, 'phx_join').map((f) => f[4])).toEqual([{ call: 2 }]);
  });

  it('rejects the wait with `PHX_ABORTED` on `signal`', async () => {
    const { srv, socket } = await setup();
    srv.onJoin = () => ({ noReply: true });
    const channel = socket.channel('room:1', {});
    socket.connect();
    const controller = new AbortController();
    const wait = channel.join({ signal: controller.signal });
    await srv.waitForFrame((f) => f[3] === 'phx_join');
    controller.abort();
    await expect(wait).rejects.toMatchObject({ code: 'PHX_ABORTED' });
  });

  it('stays pending while the server refuses; `join_error` plus a signal turns a refusal into a rejection', async () => {
    const { srv, socket } = await setup();
    srv.onJoin = () => ({ status: 'error', response: { reason: 'unauthorized' } });
    const channel = socket.channel('room:1', {}, { rejoinAfterMs: () => 30 });
    socket.connect();
    let settled = false;
    const plain = channel.join().finally(() => {
      settled = true;
    });
    plain.catch(() => undefined);
    await srv.waitFor(() => framesOf(srv, 'phx_join').length >= 3);
    expect(settled).toBe(false);
    expect(channel.state).not.toBe('joined');

    // The pattern of the README: give up on the first refusal, with the refusal as the reason.
    const giveUp = new AbortController();
    const onRefused = (error: PhoenixChannelError) => giveUp.abort(error);
    channel.on('join_error', onRefused);
    const wait = channel.join({ signal: giveUp.signal });
    await expect(wait).rejects.toMatchObject({
      code: 'PHX_ABORTED',
      cause: { code: 'PHX_JOIN_REFUSED', response: { reason: 'unauthorized' } },
    });
    channel.off('join_error', onRefused);
    await channel.leave();
    await expect(plain).rejects.toMatchObject({ code: 'PHX_CHANNEL_CLOSED' });
  });
});

describe('rejoin', () => {
  it('rejoins after a server `phx_close`, failing pending pushes with `PHX_CHANNEL_CLOSED`', async () => {
    const { srv, socket } = await setup();
    const attempts: number[] = [];
    const channel = socket.channel(
      'room:1',
      {},
      {
        rejoinAfterMs: (attempt) => {
          attempts.push(attempt);
          return 40;
        },
      },
    );
    socket.connect();
    await channel.join();
    const pending = channel.push('work', {}).catch((error: unknown) => error);
    await srv.waitForFrame((f) => f[3] === 'work');
    const errored = nextChannelEvent(channel, 'errored');
    srv.push('room:1', 'phx_close', {}, channel.joinRef);
    expect(((await errored) as PhoenixChannelError).code).toBe('PHX_CHANNEL_CLOSED');
    expect(await pending).toMatchObject({ code: 'PHX_CHANNEL_CLOSED' });
    expect(channel.state).toBe('errored');
    await nextChannelEvent(channel, 'joined');
    expect(attempts).toEqual([1]);
    expect(framesOf(srv, 'phx_join')).toHaveLength(2);
    expect(srv.connections).toHaveLength(1);
  });

  it('with `rejoinOnServerClose: false`, ends the channel on a server `phx_close` as phoenix.js does', async () => {
    const { srv, socket } = await setup();
    const channel = socket.channel('room:1', {}, { rejoinAfterMs: () => 20, rejoinOnServerClose: false });
    const errored: unknown[] = [];
    channel.on('errored', (error) => errored.push(error));
    socket.connect();
    await channel.join();
    const pending = channel.push('work', {}).catch((error: unknown) => error);
    await srv.waitForFrame((f) => f[3] === 'work');
    const closed = nextChannelEvent(channel, 'closed');
    srv.push('room:1', 'phx_close', {}, channel.joinRef);
    expect(((await closed) as PhoenixChannelError).message).toBe('channel "room:1" was closed by the server');
    expect(await pending).toMatchObject({ code: 'PHX_CHANNEL_CLOSED' });
    expect(channel.state).toBe('closed');
    await expect(channel.join()).rejects.toMatchObject({ code: 'PHX_CHANNEL_CLOSED' });
    expect(() => channel.send('late', {})).toThrow(expect.objectContaining({ code: 'PHX_CHANNEL_CLOSED' }));
    // No rejoin, and the topic is free for a new channel.
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(framesOf(srv, 'phx_join')).toHaveLength(1);
    expect(errored).toEqual([]);
    await socket.channel('room:1', {}).join();
    expect(framesOf(srv, 'phx_join')).toHaveLength(2);
  });

  it('refuses a `rejoinOnServerClose` that is not a boolean', async () => {
    const { socket } = await setup();
    expect(() => socket.channel('room:1', {}, { rejoinOnServerClose: 'no' as never })).toThrow(
      expect.objectContaining({ code: 'PHX_INVALID_ARGUMENT' }),
    );
  });

  it('rejoins after a server `phx_error`', async () => {
    const { srv, socket } = await setup();
    const channel = socket.channel('room:1', {}, { rejoinAfterMs: () => 20 });
    socket.connect();
    await channel.join();
    const errored = nextChannelEvent(channel, 'errored');
    srv.push('room:1', 'phx_error', { reason: 'channel_crash' }, channel.joinRef);
    expect(((await errored) as PhoenixChannelError).code).toBe('PHX_CHANNEL_ERRORED');
    await nextChannelEvent(channel, 'joined');
  });

  it('ignores `phx_close` and `phx_error` of an older join', async () => {
    const { srv, socket } = await setup();
    const channel = socket.channel('room:1', {}, { rejoinAfterMs: () => 20 });
    socket.connect();
    await channel.join();
    const oldJoinRef = channel.joinRef;
    srv.push('room:1', 'phx_error', {}, oldJoinRef);
    await nextChannelEvent(channel, 'joined');
    expect(channel.joinRef).not.toBe(oldJoinRef);
    srv.push('room:1', 'phx_close', {}, oldJoinRef);
    srv.push('room:1', 'marker', {});
    await nextChannelEvent(channel, 'marker');
    expect(channel.state).toBe('joined');
  });

  it('does not route a reply carrying the join_ref of an older join', async () => {
    const { srv, socket } = await setup();
    const channel = socket.channel('room:1', {}, { rejoinAfterMs: () => 20 });
    socket.connect();
    await channel.join();
    const oldJoinRef = channel.joinRef!;
    srv.push('room:1', 'phx_error', {}, oldJoinRef);
    await nextChannelEvent(channel, 'joined');
    const push = channel.push('ask', {}, { timeoutMs: 5000 });
    const { frame } = await srv.waitForFrame((f) => f[3] === 'ask');
    const ref = frame[1];
    srv.current!.send([oldJoinRef, ref, 'room:1', 'phx_reply', { status: 'ok', response: 'stale' }]);
    srv.current!.send([channel.joinRef, ref, 'room:1', 'phx_reply', { status: 'ok', response: 'fresh' }]);
    await expect(push).resolves.toEqual({ status: 'ok', response: 'fresh' });
  });
});

describe('Channel#push', () => {
  it('resolves with any reply status and its response', async () => {
    const { srv, socket } = await setup();
    srv.onPush = ([, , , event, payload]) =>
      event === 'good' ? { status: 'ok', response: { echo: payload } } : { status: 'error', response: 'bad' };
    const channel = socket.channel('room:1', {});
    socket.connect();
    await channel.join();
    await expect(channel.push('good', { x: 1 })).resolves.toEqual({
      status: 'ok',
      response: { echo: { x: 1 } },
    });
    await expect(channel.push('other', {})).resolves.toEqual({ status: 'error', response: 'bad' });
    const pushes = srv.frames.filter((f) => f[3] === 'good' || f[3] === 'other');
    expect(pushes.map((f) => f[0])).toEqual(['1', '1']);
    expect(new Set(pushes.map((f) => f[1])).size).toBe(2);
  });

  it('rejects with `PHX_PUSH_TIMEOUT` after `timeoutMs` and keeps the channel joined', async () => {
    const { srv, socket } = await setup();
    srv.onPush = ([, , , event]) => (event === 'answered' ? { status: 'ok', response: {} } : undefined);
    const channel = socket.channel('room:1', {});
    socket.connect();
    await channel.join();
    await expect(channel.push('ignored', {}, { timeoutMs: 50 })).rejects.toMatchObject({
      code: 'PHX_PUSH_TIMEOUT',
    });
    expect(channel.state).toBe('joined');
    await expect(channel.push('answered', {})).resolves.toMatchObject({ status: 'ok' });
    expect(framesOf(srv, 'phx_join')).toHaveLength(1);
  });

  it('rejects with `PHX_ABORTED` on `signal`', async () => {
    const { socket } = await setup();
    const channel = socket.channel('room:1', {});
    socket.connect();
    await channel.join();
    const controller = new AbortController();
    const push = channel.push('ignored', {}, { signal: controller.signal });
    controller.abort();
    await expect(push).rejects.toMatchObject({ code: 'PHX_ABORTED' });
  });

  it('rejects a payload JSON cannot hold with `PHX_ENCODE_FAILED`', async () => {
    const { socket } = await setup();
    const channel = socket.channel('room:1', {});
    await expect(channel.push('x', { n: 1n })).rejects.toMatchObject({ code: 'PHX_ENCODE_FAILED' });
  });
});

describe('Channel#send', () => {
  it('sends fire-and-forget messages in order with the join_ref and fresh refs', async () => {
    const { srv, socket, errors } = await setup();
    const channel = socket.channel('device', {});
    socket.connect();
    await channel.join();
    for (let i = 0; i < 20; i++) channel.send('fwup_progress', { value: i });
    const frames = await srv.waitFor(() => {
      const f = framesOf(srv, 'fwup_progress');
      return f.length === 20 ? f : undefined;
    });
    expect(frames.map((f) => (f[4] as { value: number }).value)).toEqual([...Array(20).keys()]);
    expect(frames.every((f) => f[0] === channel.joinRef)).toBe(true);
    expect(new Set(frames.map((f) => f[1])).size).toBe(20);
    expect(errors).toEqual([]);
  });

  it('buffers messages made before the join and sends them in order on join', async () => {
    const { srv, socket } = await setup();
    const channel = socket.channel('device', {});
    channel.send('a', {});
    const reply = channel.push('b', {});
    channel.send('c', {});
    expect(channel.bufferedCount).toBe(3);
    srv.onPush = ([, , , event]) => (event === 'b' ? { status: 'ok', response: 'b!' } : undefined);
    socket.connect();
    await channel.join();
    await expect(reply).resolves.toEqual({ status: 'ok', response: 'b!' });
    await srv.waitFor(() => framesOf(srv, 'c').length === 1);
    const order = srv.frames.map((f) => f[3]).filter((e) => e !== 'heartbeat');
    expect(order).toEqual(['phx_join', 'a', 'b', 'c']);
    expect(channel.bufferedCount).toBe(0);
  });

  it('buffers across a reconnect and flushes after the rejoin', async () => {
    const { srv, socket } = await setup();
    const channel = socket.channel('device', {});
    socket.connect();
    await channel.join();
    await srv.stop();
    await until(() => channel.state === 'errored');
    channel.send('status_update', { status: 'completed' });
    channel.send('rebooting', {});
    expect(await socket.flush({ timeoutMs: 50 })).toBe(false);
    await srv.start();
    await nextChannelEvent(channel, 'joined');
    expect(await socket.flush({ timeoutMs: 5000 })).toBe(true);
    await srv.waitFor(() => framesOf(srv, 'rebooting').length === 1);
    const last = srv.connections
      .at(-1)!
      .frames.map((f) => f[3])
      .filter((e) => e !== 'heartbeat');
    expect(last).toEqual(['phx_join', 'status_update', 'rebooting']);
  });

  it('throws `PHX_BUFFER_FULL` beyond `maxBufferedPushes`, and push rejects alike', async () => {
    const { socket } = await setup();
    const channel = socket.channel('device', {}, { maxBufferedPushes: 2 });
    channel.send('a', {});
    channel.send('b', {});
    expect(() => channel.send('c', {})).toThrow(expect.objectContaining({ code: 'PHX_BUFFER_FULL' }));
    await expect(channel.push('d', {})).rejects.toMatchObject({ code: 'PHX_BUFFER_FULL' });
  });

  it('refuses with `PHX_NOT_JOINED` when not joined and `buffer` is false or the buffer size is 0', async () => {
    const { socket } = await setup();
    const channel = socket.channel('device', {});
    expect(() => channel.send('progress', {}, { buffer: false })).toThrow(
      expect.objectContaining({ code: 'PHX_NOT_JOINED' }),
    );
    const unbuffered = socket.channel('other', {}, { maxBufferedPushes: 0 });
    expect(() => unbuffered.send('x', {})).toThrow(expect.objectContaining({ code: 'PHX_NOT_JOINED' }));
    await expect(unbuffered.push('x', {})).rejects.toMatchObject({ code: 'PHX_NOT_JOINED' });
  });

  it('drops a buffered push whose timeout expires before the join', async () => {
    const { srv, socket } = await setup();
    const channel = socket.channel('device', {});
    await expect(channel.push('late', {}, { timeoutMs: 30 })).rejects.toMatchObject({
      code: 'PHX_PUSH_TIMEOUT',
    });
    expect(channel.bufferedCount).toBe(0);
    socket.connect();
    await channel.join();
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(framesOf(srv, 'late')).toEqual([]);
  });
});

describe('incoming events', () => {
  it('delivers server pushes to handlers in order, matched on topic and event only', async () => {
    const { srv, socket } = await setup();
    const channel = socket.channel('device', {});
    const seen: Array<[unknown, Message]> = [];
    channel.on('update', (payload, message) => {
      seen.push([payload, message]);
    });
    socket.connect();
    await channel.join();
    for (let i = 0; i < 200; i++) srv.push('device', 'update', { i }, i % 2 === 0 ? null : channel.joinRef);
    srv.push('other-topic', 'update', { i: -1 });
    await until(() => seen.length === 200);
    expect(seen.map(([payload]) => (payload as { i: number }).i)).toEqual([...Array(200).keys()]);
    expect(seen[0]![1]).toEqual({
      joinRef: null,
      ref: null,
      topic: 'device',
      event: 'update',
      payload: { i: 0 },
    });
  });

  it('keeps lifecycle names for lifecycle events; `onMessage` sees every message', async () => {
    const { srv, socket } = await setup();
    const channel = socket.channel('device', {});
    const lifecycle: unknown[] = [];
    const all: string[] = [];
    socket.connect();
    await channel.join();
    channel.on('joined', (response) => lifecycle.push(response));
    const stop = channel.onMessage((message) => all.push(message.event));
    srv.push('device', 'joined', { fake: true });
    srv.push('device', 'marker', {});
    await nextChannelEvent(channel, 'marker');
    stop();
    srv.push('device', 'after', {});
    await nextChannelEvent(channel, 'after');
    expect(lifecycle).toEqual([]);
    expect(all).toEqual(['joined', 'marker']);
  });

  it('reports malformed frames as `PHX_DECODE_FAILED`, drops them, and stays connected', async () => {
    const { srv, socket, errors } = await setup({ maxFrameBytes: 1024 });
    const channel = socket.channel('device', {});
    socket.connect();
    await channel.join();
    const connection = srv.current!;
    connection.sendRaw('not json');
    connection.sendRaw('["1","1","device","update"]');
    connection.sendRaw('[1,null,"device","update",{}]');
    connection.sendRaw('[null,null,"device",7,{}]');
    connection.sendRaw(JSON.stringify([null, null, 'device', 'update', 'x'.repeat(2000)]));
    connection.sendRaw(Buffer.from([1, 2, 3]), true);
    const asked = channel.push('ask', {}, { timeoutMs: 5000 });
    const { frame } = await srv.waitForFrame((f) => f[3] === 'ask');
    connection.send([frame[0], frame[1], 'device', 'phx_reply', { no: 'status' }]);
    connection.send([frame[0], frame[1], 'device', 'phx_reply', { status: 'ok', response: 'after all' }]);
    await expect(asked).resolves.toEqual({ status: 'ok', response: 'after all' });
    srv.push('device', 'fine', { ok: 1 });
    await expect(nextChannelEvent(channel, 'fine')).resolves.toEqual({ ok: 1 });
    expect(errors.map((e) => e.code)).toEqual(Array(7).fill('PHX_DECODE_FAILED'));
    expect(srv.connections).toHaveLength(1);
    expect(socket.isConnected()).toBe(true);
  });

  it('fails a push at once when its reply exceeds `maxFrameBytes`, naming the option', async () => {
    const { srv, socket, errors } = await setup({ maxFrameBytes: 1024 });
    srv.onPush = ([, , , event]) =>
      event === 'big' ? { status: 'ok', response: 'x'.repeat(2000) } : { status: 'ok', response: 'small' };
    const channel = socket.channel('device', {});
    socket.connect();
    await channel.join();
    const started = Date.now();
    const big = channel.push('big', {}, { timeoutMs: 8_000 });
    await expect(big).rejects.toMatchObject({
      code: 'PHX_DECODE_FAILED',
      message: expect.stringMatching(
        /^the reply to the push of "big" on "device" is 20\d\d bytes, over the socket's maxFrameBytes \(1024\); it was dropped\. Raise maxFrameBytes to receive it$/,
      ),
    });
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(errors.map((e) => e.code)).toEqual(['PHX_DECODE_FAILED']);
    await expect(channel.push('small', {})).resolves.toEqual({ status: 'ok', response: 'small' });
    expect(channel.state).toBe('joined');
  });

  it('leaves other pushes waiting when an oversized reply names another ref or topic', async () => {
    const { srv, socket } = await setup({ maxFrameBytes: 1024 });
    const channel = socket.channel('device', {});
    socket.connect();
    await channel.join();
    const asked = channel.push('ask', {}, { timeoutMs: 5_000 });
    const { frame } = await srv.waitForFrame((f) => f[3] === 'ask');
    const huge = { status: 'ok', response: 'x'.repeat(2000) };
    srv.current!.send([frame[0], '999', 'device', 'phx_reply', huge]);
    srv.current!.send([frame[0], frame[1], 'other', 'phx_reply', huge]);
    srv.current!.send([frame[0], frame[1], 'device', 'phx_reply', { status: 'ok', response: 'fits' }]);
    await expect(asked).resolves.toEqual({ status: 'ok', response: 'fits' });
  });

  it('closes and reconnects when a frame exceeds four times `maxFrameBytes`', async () => {
    const { srv, socket, errors } = await setup({ maxFrameBytes: 1024 });
    socket.connect();
    await nextSocketEvent(socket, 'open');
    srv.current!.sendRaw(JSON.stringify([null, null, 'device', 'update', 'x'.repeat(5000)]));
    await nextSocketEvent(socket, 'open');
    expect(errors.map((e) => e.code)).toContain('PHX_TRANSPORT_ERROR');
    expect(srv.connections).toHaveLength(2);
  });

  it('reports handlers that throw or reject as `PHX_HANDLER_FAILED` and keeps delivering', async () => {
    const { srv, socket, errors } = await setup();
    const channel = socket.channel('device', {});
    channel.on('boom', () => {
      throw new Error('sync');
    });
    channel.on('boom', async () => {
      throw new Error('async');
    });
    socket.connect();
    await channel.join();
    srv.push('device', 'boom', {});
    srv.push('device', 'next', {});
    await nextChannelEvent(channel, 'next');
    await until(() => errors.length === 2);
    expect(errors.map((e) => e.code)).toEqual(['PHX_HANDLER_FAILED', 'PHX_HANDLER_FAILED']);
    expect(errors.map((e) => (e.cause as Error).message).sort()).toEqual(['async', 'sync']);
  });
});

describe('Channel#leave', () => {
  it('sends phx_leave, closes the channel for good and frees the topic', async () => {
    const { srv, socket } = await setup();
    const channel = socket.channel('room:1', {});
    socket.connect();
    await channel.join();
    const closed = nextChannelEvent(channel, 'closed');
    expect(() => socket.channel('room:1')).toThrow(expect.objectContaining({ code: 'PHX_INVALID_STATE' }));
    await channel.leave();
    expect(((await closed) as PhoenixChannelError).code).toBe('PHX_CHANNEL_CLOSED');
    expect(framesOf(srv, 'phx_leave')).toEqual([['1', expect.any(String), 'room:1', 'phx_leave', {}]]);
    expect(channel.state).toBe('closed');
    expect(() => channel.send('x', {})).toThrow(expect.objectContaining({ code: 'PHX_CHANNEL_CLOSED' }));
    await expect(channel.push('x', {})).rejects.toMatchObject({ code: 'PHX_CHANNEL_CLOSED' });
    await expect(channel.join()).rejects.toMatchObject({ code: 'PHX_CHANNEL_CLOSED' });
    // The server's phx_close after the leave does not bring the channel back.
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(framesOf(srv, 'phx_join')).toHaveLength(1);
    const again: Channel = socket.channel('room:1', {});
    await again.join();
    expect(framesOf(srv, 'phx_join')).toHaveLength(2);
  });

  it('rejects a pending join wait with `PHX_CHANNEL_CLOSED`', async () => {
    const { socket } = await setup();
    const channel = socket.channel('room:1', {});
    const wait = channel.join();
    await channel.leave();
    await expect(wait).rejects.toMatchObject({ code: 'PHX_CHANNEL_CLOSED' });
  });
});

describe('Socket#flush', () => {
  it('resolves true once sent frames are written, and rejects with `PHX_ABORTED` on signal', async () => {
    const { socket } = await setup();
    const channel = socket.channel('device', {});
    socket.connect();
    await channel.join();
    for (let i = 0; i < 50; i++) channel.send('big', { blob: 'y'.repeat(10_000) });
    expect(await socket.flush({ timeoutMs: 5000 })).toBe(true);
    const blocked = socket.channel('blocked', {});
    blocked.send('waiting', {});
    await expect(socket.flush({ signal: AbortSignal.abort() })).rejects.toMatchObject({
      code: 'PHX_ABORTED',
    });
    expect(await socket.flush({ timeoutMs: 30 })).toBe(false);
  });

  it('waits its `timeoutMs` on the `timers` it is given', async () => {
    const held = heldTimers();
    const { socket } = openSocket('ws://127.0.0.1:9/socket/websocket', { timers: held.timers });
    socket.channel('blocked', {}).send('waiting', {});
    const flushed = socket.flush({ timeoutMs: 60_000 });
    expect(held.pending).toEqual([expect.objectContaining({ delayMs: 60_000 })]);
    held.runNext();
    expect(await flushed).toBe(false);
  });
});
