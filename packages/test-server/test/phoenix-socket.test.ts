// Phoenix's socket rules as a device can observe them (phoenix lib/phoenix/socket.ex handle_in): null join refs,
// stale join refs, a second join of a joined topic, topics that are not joined, heartbeats and leaves.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../src/index.js';
import { joinParams, RawDevice } from './support/raw-device.js';

let server: TestServer;
const opened: RawDevice[] = [];
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(async () => {
  await Promise.all(opened.map((device) => device.close()));
  await server?.close();
});

async function device(identifier: string): Promise<RawDevice> {
  const raw = await RawDevice.open(server, identifier);
  opened.push(raw);
  return raw;
}

describe('messages on a joined topic', () => {
  it('a null join_ref is accepted, as Phoenix accepts it on every message but a join', async () => {
    const raw = await device('null-join-ref');
    await raw.join(joinParams());
    raw.send('status_update', { status: 'received' }, 'device', null);
    const event = await server.waitForEvent('null-join-ref', (e) => e.event === 'status_update');
    expect(event.payload).toEqual({ status: 'received' });
    expect(server.records('null-join-ref')?.inflightUpdate?.status).toBe('received');
  });

  it('a join_ref of an earlier join of the topic is ignored', async () => {
    const raw = await device('stale-join-ref');
    await raw.join(joinParams());
    const first = raw.joinRef;
    await raw.join(joinParams());
    raw.send('report_network_interface', { interface: 'wlan0' }, 'device', first);
    raw.send('report_network_interface', { interface: 'eth0' });
    await server.waitForEvent('stale-join-ref', (e) => e.event === 'report_network_interface');
    expect(server.device('stale-join-ref').events.map((e) => e.payload.interface)).toEqual(['eth0']);
  });

  it('a second join of a joined topic: the new reply, then phx_close of the old join', async () => {
    const raw = await device('rejoiner');
    await raw.join(joinParams());
    const old = raw.joinRef;
    const reply = await raw.join(joinParams());
    expect(reply).toEqual([raw.joinRef, raw.joinRef, 'device', 'phx_reply', { status: 'ok', response: {} }]);
    expect(await raw.next()).toEqual([old, old, 'device', 'phx_close', {}]);
    expect(server.device('rejoiner').joins).toHaveLength(2);
  });
});

describe('topics that are not joined', () => {
  it('a message: the "unmatched topic" error reply, without a join ref, and nothing recorded', async () => {
    const raw = await device('unjoined');
    const ref = raw.send('status_update', { status: 'received' }, 'device', '7');
    expect(await raw.next()).toEqual([
      null,
      ref,
      'device',
      'phx_reply',
      { status: 'error', response: { reason: 'unmatched topic' } },
    ]);
    expect(server.device('unjoined').events).toEqual([]);
    expect(server.records('unjoined')?.inflightUpdate).toBeNull();
  });

  it('after a crash the topic is not joined any more: the next message gets "unmatched topic"', async () => {
    const raw = await device('after-crash');
    await raw.join(joinParams());
    raw.send('status_update', { status: 'bogus' });
    expect((await raw.next((f) => f[3] === 'phx_error'))[0]).toBe(raw.joinRef);
    const ref = raw.send('status_update', { status: 'received' });
    expect(await raw.next()).toEqual([
      null,
      ref,
      'device',
      'phx_reply',
      { status: 'error', response: { reason: 'unmatched topic' } },
    ]);
  });

  it('a join of a topic NervesHub has no channel for: "unmatched topic", without a join ref', async () => {
    const raw = await device('other-topic');
    const reply = await raw.join({}, 'firmware');
    expect(reply).toEqual([
      null,
      raw.joinRef,
      'firmware',
      'phx_reply',
      { status: 'error', response: { reason: 'unmatched topic' } },
    ]);
  });

  it('a leave of a topic that is not joined: an ok reply', async () => {
    const raw = await device('leaver-unjoined');
    const ref = raw.send('phx_leave', {}, 'device', '3');
    expect(await raw.next()).toEqual(['3', ref, 'device', 'phx_reply', { status: 'ok', response: {} }]);
  });
});

describe('the phoenix topic', () => {
  it('heartbeat replies carry no join ref', async () => {
    const raw = await device('beater');
    const ref = raw.send('heartbeat', {}, 'phoenix', '9');
    expect(await raw.next()).toEqual([null, ref, 'phoenix', 'phx_reply', { status: 'ok', response: {} }]);
  });
});
