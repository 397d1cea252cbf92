import { connect, createServer, type Server, type Socket } from 'node:net';
import { networkInterfaces } from 'node:os';
import { afterEach, describe, expect, it } from 'vitest';
import { type InterfaceTable, interfaceForAddress } from './network-interface.js';

const table: InterfaceTable = {
  lo: [{ address: '127.0.0.1' }, { address: '::1', scopeid: 0 }],
  eth0: [
    { address: '192.0.2.2' },
    { address: '2001:db8::2', scopeid: 0 },
    { address: 'fe80::1', scopeid: 2 },
  ],
  wlan0: [{ address: '198.51.100.7' }, { address: 'fe80::1', scopeid: 3 }],
  down0: undefined,
};

describe('interfaceForAddress', () => {
  it('names the interface holding an IPv4 or IPv6 address', () => {
    expect(interfaceForAddress('192.0.2.2', table)).toBe('eth0');
    expect(interfaceForAddress('198.51.100.7', table)).toBe('wlan0');
    expect(interfaceForAddress('127.0.0.1', table)).toBe('lo');
    expect(interfaceForAddress('::1', table)).toBe('lo');
    expect(interfaceForAddress('2001:db8::2', table)).toBe('eth0');
  });

  it('compares IPv6 by value, not by spelling', () => {
    expect(interfaceForAddress('2001:0DB8:0:0:0:0:0:0002', table)).toBe('eth0');
    expect(interfaceForAddress('0:0:0:0:0:0:0:1', table)).toBe('lo');
  });

  it('takes an IPv4-mapped IPv6 address for its IPv4 address, in either spelling', () => {
    expect(interfaceForAddress('::ffff:192.0.2.2', table)).toBe('eth0');
    expect(interfaceForAddress('::FFFF:c000:202', table)).toBe('eth0');
    expect(interfaceForAddress('0:0:0:0:0:ffff:127.0.0.1', table)).toBe('lo');
    // Not mapped: the deprecated IPv4-compatible form is another address.
    expect(interfaceForAddress('::192.0.2.2', table)).toBeUndefined();
  });

  it('uses a scope suffix, by name or index, to pick among interfaces sharing a link-local address', () => {
    expect(interfaceForAddress('fe80::1%eth0', table)).toBe('eth0');
    expect(interfaceForAddress('fe80::1%wlan0', table)).toBe('wlan0');
    expect(interfaceForAddress('fe80::1%3', table)).toBe('wlan0');
    expect(interfaceForAddress('fe80::1%2', table)).toBe('eth0');
    expect(interfaceForAddress('fe80::1', table)).toBe('eth0');
    expect(interfaceForAddress('fe80::1%usb0', table)).toBeUndefined();
    expect(interfaceForAddress('2001:db8::2%eth0', table)).toBe('eth0');
  });

  it('gives undefined for no address, something not an IP, or an address on no interface', () => {
    expect(interfaceForAddress(undefined, table)).toBeUndefined();
    expect(interfaceForAddress('', table)).toBeUndefined();
    expect(interfaceForAddress('eth0', table)).toBeUndefined();
    expect(interfaceForAddress('192.0.2.256', table)).toBeUndefined();
    expect(interfaceForAddress('203.0.113.9', table)).toBeUndefined();
    expect(interfaceForAddress('::ffff:203.0.113.9', table)).toBeUndefined();
    expect(interfaceForAddress('192.0.2.2', {})).toBeUndefined();
  });

  it('skips table entries that are not addresses', () => {
    expect(
      interfaceForAddress('192.0.2.2', { bogus: [{ address: 'n/a' }], eth0: [{ address: '192.0.2.2' }] }),
    ).toBe('eth0');
  });
});

describe('interfaceForAddress on this machine', () => {
  const opened: (Server | Socket)[] = [];
  afterEach(async () => {
    // Sockets first: a server's close() waits for its connections.
    for (const thing of opened.splice(0).reverse()) {
      if ('listening' in thing) await new Promise<void>((resolve) => thing.close(() => resolve()));
      else thing.destroy();
    }
  });

  const loopback = Object.entries(networkInterfaces()).find(([, entries]) =>
    entries?.some((entry) => entry.internal && entry.address === '127.0.0.1'),
  )?.[0];

  /** Connects to `host` on a server listening on `listenHost`; resolves with both ends' local addresses. */
  async function connectionAddresses(listenHost: string, host: string) {
    const server = createServer();
    opened.push(server);
    const accepted = new Promise<Socket>((resolve) => server.once('connection', resolve));
    await new Promise<void>((resolve) => server.listen(0, listenHost, resolve));
    const { port } = server.address() as { port: number };
    const client = connect(port, host);
    opened.push(client);
    await new Promise<void>((resolve, reject) => client.once('connect', resolve).once('error', reject));
    const serverSide = await accepted;
    opened.push(serverSide);
    return { client: client.localAddress, server: serverSide.localAddress };
  }

  it('maps the local address of a real TCP connection to 127.0.0.1 to the loopback interface', async () => {
    expect(loopback).toBe(process.platform === 'darwin' ? 'lo0' : 'lo');
    const { client } = await connectionAddresses('127.0.0.1', '127.0.0.1');
    expect(client).toBe('127.0.0.1');
    expect(interfaceForAddress(client)).toBe(loopback);
  });

  const hasIpv6 = Object.values(networkInterfaces()).some((entries) =>
    entries?.some((e) => e.family === 'IPv6'),
  );

  it.skipIf(process.platform !== 'linux' || !hasIpv6)(
    'maps the IPv4-mapped address a dual-stack socket reports to the loopback interface',
    async () => {
      const { server } = await connectionAddresses('::', '127.0.0.1');
      expect(server).toBe('::ffff:127.0.0.1');
      expect(interfaceForAddress(server)).toBe(loopback);
    },
  );
});
