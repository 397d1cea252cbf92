import { afterEach, describe, expect, it, vi } from 'vitest';
import { InterfaceReporter } from './interface-reporter.js';

afterEach(() => {
  vi.useRealTimers();
});

function setup(lookup: (address: string | undefined) => string | undefined) {
  const sent: Array<{ interface: string }> = [];
  const warnings: string[] = [];
  let address: string | undefined = '192.0.2.10';
  const reporter = new InterfaceReporter({
    localAddress: () => address,
    interfaceForAddress: lookup,
    send: (payload) => {
      sent.push(payload);
      return true;
    },
    logger: { debug() {}, info() {}, warn: (message) => warnings.push(message), error() {} },
  });
  return {
    reporter,
    sent,
    warnings,
    setAddress: (value: string | undefined) => {
      address = value;
    },
  };
}

describe('InterfaceReporter', () => {
  it('reports the interface of the connection after every join', () => {
    const t = setup((address) => (address === '192.0.2.10' ? 'eth0' : 'wlan0'));
    t.reporter.joined();
    t.setAddress('198.51.100.7');
    t.reporter.joined();
    expect(t.sent).toEqual([{ interface: 'eth0' }, { interface: 'wlan0' }]);
    expect(t.warnings).toEqual([]);
  });

  it('says so when it cannot tell, and tries again a minute later', async () => {
    vi.useFakeTimers();
    let known = false;
    const t = setup(() => (known ? 'eth0' : undefined));
    t.reporter.joined();
    expect(t.sent).toEqual([]);
    expect(t.warnings[0]).toMatch(/could not tell which network interface .*192\.0\.2\.10.*60 s/);
    known = true;
    await vi.advanceTimersByTimeAsync(59_999);
    expect(t.sent).toEqual([]);
    await vi.advanceTimersByTimeAsync(1);
    expect(t.sent).toEqual([{ interface: 'eth0' }]);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('stop() cancels a pending retry', async () => {
    vi.useFakeTimers();
    const t = setup(() => undefined);
    t.reporter.joined();
    t.reporter.stop();
    expect(vi.getTimerCount()).toBe(0);
  });
});
