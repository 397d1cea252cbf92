import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { Heartbeat } from './heartbeat.js';

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

function setup(intervalMs: number, timeoutMs: number) {
  let next = 0;
  const sent: string[] = [];
  const onTimeout = vi.fn();
  const heartbeat = new Heartbeat({
    intervalMs,
    timeoutMs,
    send: () => {
      const ref = String(++next);
      sent.push(ref);
      return ref;
    },
    onTimeout,
  });
  return { heartbeat, sent, onTimeout };
}

describe('Heartbeat', () => {
  describe('#start', () => {
    it('sends one heartbeat per interval while replies come back', () => {
      const { heartbeat, sent, onTimeout } = setup(1000, 1000);
      heartbeat.start();
      vi.advanceTimersByTime(999);
      expect(sent).toEqual([]);
      vi.advanceTimersByTime(1);
      for (let i = 1; i <= 5; i++) {
        expect(sent.length).toBe(i);
        expect(heartbeat.handleReply(sent[i - 1]!)).toBe(true);
        vi.advanceTimersByTime(1000);
      }
      expect(onTimeout).not.toHaveBeenCalled();
      heartbeat.stop();
    });

    it('times out at the next tick when the previous heartbeat has no reply', () => {
      const { heartbeat, sent, onTimeout } = setup(1000, 1000);
      heartbeat.start();
      vi.advanceTimersByTime(1000);
      expect(sent).toEqual(['1']);
      vi.advanceTimersByTime(999);
      expect(onTimeout).not.toHaveBeenCalled();
      vi.advanceTimersByTime(1);
      expect(onTimeout).toHaveBeenCalledWith('1');
      expect(heartbeat.isRunning).toBe(false);
      vi.advanceTimersByTime(10_000);
      expect(sent).toEqual(['1']);
      expect(onTimeout).toHaveBeenCalledTimes(1);
    });

    it('honors a `timeoutMs` shorter than the interval', () => {
      const { heartbeat, onTimeout } = setup(1000, 200);
      heartbeat.start();
      vi.advanceTimersByTime(1199);
      expect(onTimeout).not.toHaveBeenCalled();
      vi.advanceTimersByTime(1);
      expect(onTimeout).toHaveBeenCalledWith('1');
    });

    it('does not wait for a reply to a heartbeat that could not be sent', () => {
      const onTimeout = vi.fn();
      const heartbeat = new Heartbeat({ intervalMs: 100, timeoutMs: 50, send: () => null, onTimeout });
      heartbeat.start();
      vi.advanceTimersByTime(1000);
      expect(onTimeout).not.toHaveBeenCalled();
      heartbeat.stop();
    });
  });

  describe('#handleReply', () => {
    it('ignores replies to other refs', () => {
      const { heartbeat, onTimeout } = setup(1000, 1000);
      heartbeat.start();
      vi.advanceTimersByTime(1000);
      expect(heartbeat.handleReply('99')).toBe(false);
      expect(heartbeat.handleReply(null)).toBe(false);
      expect(heartbeat.pendingRef).toBe('1');
      vi.advanceTimersByTime(1000);
      expect(onTimeout).toHaveBeenCalledTimes(1);
    });
  });

  describe('#stop', () => {
    it('leaves no timer behind', () => {
      const { heartbeat, onTimeout } = setup(1000, 500);
      heartbeat.start();
      vi.advanceTimersByTime(1000);
      heartbeat.stop();
      expect(vi.getTimerCount()).toBe(0);
      vi.advanceTimersByTime(10_000);
      expect(onTimeout).not.toHaveBeenCalled();
    });
  });
});
