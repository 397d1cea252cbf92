import { describe, expect, it } from 'vitest';
import { ServerClock } from './clock-skew.js';

function fixedClock(localMs: number) {
  let now = localMs;
  return {
    now: () => now,
    advance: (ms: number) => {
      now += ms;
    },
  };
}

describe('ServerClock', () => {
  it('follows the local clock until it has seen a `Date`', () => {
    const local = fixedClock(1_700_000_000_000);
    const clock = new ServerClock({ now: local.now });
    expect(clock.nowMs()).toBe(1_700_000_000_000);
    expect(clock.offsetMs).toBe(0);
    expect(clock.hasObservation).toBe(false);
  });

  it('corrects a local clock that is 5 minutes behind', () => {
    const server = Date.parse('Tue, 14 Nov 2023 22:13:20 GMT');
    const local = fixedClock(server - 300_000);
    const clock = new ServerClock({ now: local.now });
    expect(clock.observeDateHeader('Tue, 14 Nov 2023 22:13:20 GMT')).toBe(true);
    expect(clock.offsetMs).toBe(300_000);
    local.advance(2_000);
    expect(clock.nowMs()).toBe(server + 2_000);
  });

  it('corrects a local clock that is 5 minutes ahead', () => {
    const server = Date.parse('Tue, 14 Nov 2023 22:13:20 GMT');
    const local = fixedClock(server + 300_000);
    const clock = new ServerClock({ now: local.now });
    clock.observeDateHeader('Tue, 14 Nov 2023 22:13:20 GMT');
    expect(clock.offsetMs).toBe(-300_000);
    expect(clock.nowMs()).toBe(server);
  });

  it('uses the `receivedAtMs` argument as the local time of receipt', () => {
    const local = fixedClock(10_000_000);
    const clock = new ServerClock({ now: local.now });
    clock.observeDateHeader(new Date(5_000_000).toUTCString(), 4_000_000);
    expect(clock.offsetMs).toBe(1_000_000);
  });

  it('keeps the last offset when the header is missing or malformed', () => {
    const local = fixedClock(1_000_000);
    const clock = new ServerClock({ now: local.now });
    clock.observeDateHeader(new Date(2_000_000).toUTCString());
    expect(clock.observeDateHeader('yesterday-ish')).toBe(false);
    expect(clock.observeDateHeader(undefined)).toBe(false);
    expect(clock.offsetMs).toBe(1_000_000);
  });

  it('replaces the offset with the newest observation', () => {
    const local = fixedClock(1_000_000);
    const clock = new ServerClock({ now: local.now });
    clock.observeDateHeader(new Date(2_000_000).toUTCString());
    clock.observeDateHeader(new Date(1_000_000).toUTCString());
    expect(clock.offsetMs).toBe(0);
  });

  describe('observeError', () => {
    it('reads `headers.date` from an upgrade error', () => {
      const local = fixedClock(1_000_000);
      const clock = new ServerClock({ now: local.now });
      const error = Object.assign(new Error('rejected'), {
        statusCode: 401,
        headers: { date: new Date(61_000_000).toUTCString() },
      });
      expect(clock.observeError(error)).toBe(true);
      expect(clock.offsetMs).toBe(60_000_000);
    });

    it('looks along the `cause` chain', () => {
      const clock = new ServerClock({ now: () => 0 });
      const inner = Object.assign(new Error('inner'), { headers: { date: new Date(5000).toUTCString() } });
      expect(clock.observeError(new Error('outer', { cause: inner }))).toBe(true);
      expect(clock.offsetMs).toBe(5000);
    });

    it('ignores errors without a date', () => {
      const clock = new ServerClock({ now: () => 0 });
      expect(clock.observeError(new Error('ECONNREFUSED'))).toBe(false);
      expect(clock.observeError(undefined)).toBe(false);
      expect(clock.observeError({ headers: {} })).toBe(false);
    });
  });

  it('forgets on `reset`', () => {
    const clock = new ServerClock({ now: () => 0 });
    clock.observeDateHeader(new Date(5000).toUTCString());
    clock.reset();
    expect(clock.offsetMs).toBe(0);
    expect(clock.hasObservation).toBe(false);
  });
});
