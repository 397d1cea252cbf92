import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { Push, type PushInit } from './push.js';

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

function makePush(overrides: Partial<PushInit> = {}): Push {
  return new Push({
    topic: 'room',
    event: 'ping',
    payloadJson: '{}',
    timeoutMs: 1000,
    timeoutCode: 'PHX_PUSH_TIMEOUT',
    ...overrides,
  });
}

describe('Push', () => {
  describe('#reply', () => {
    it('resolves with the status and response and clears its timer', async () => {
      const onSettled = vi.fn();
      const push = makePush({ onSettled });
      push.reply('error', { reason: 'nope' });
      await expect(push.promise).resolves.toEqual({ status: 'error', response: { reason: 'nope' } });
      expect(onSettled).toHaveBeenCalledWith(push, { status: 'error', response: { reason: 'nope' } }, null);
      expect(vi.getTimerCount()).toBe(0);
    });

    it('settles only once', async () => {
      const onSettled = vi.fn();
      const push = makePush({ onSettled });
      push.reply('ok', 1);
      push.reply('ok', 2);
      vi.advanceTimersByTime(5000);
      await expect(push.promise).resolves.toEqual({ status: 'ok', response: 1 });
      expect(onSettled).toHaveBeenCalledTimes(1);
    });
  });

  describe('timeout', () => {
    it('rejects with the `timeoutCode` after `timeoutMs`', async () => {
      const push = makePush({ timeoutCode: 'PHX_JOIN_TIMEOUT' });
      const settled = expect(push.promise).rejects.toMatchObject({ code: 'PHX_JOIN_TIMEOUT' });
      vi.advanceTimersByTime(999);
      expect(push.isSettled).toBe(false);
      vi.advanceTimersByTime(1);
      await settled;
    });
  });

  describe('signal', () => {
    it('rejects with `PHX_ABORTED` when the signal aborts, keeping the reason as cause', async () => {
      const controller = new AbortController();
      const push = makePush({ signal: controller.signal });
      controller.abort(new Error('stop'));
      await expect(push.promise).rejects.toMatchObject({ code: 'PHX_ABORTED', cause: new Error('stop') });
      expect(vi.getTimerCount()).toBe(0);
    });

    it('rejects at once for a signal that is already aborted', async () => {
      const push = makePush({ signal: AbortSignal.abort() });
      expect(push.isSettled).toBe(true);
      await expect(push.promise).rejects.toMatchObject({ code: 'PHX_ABORTED' });
      expect(vi.getTimerCount()).toBe(0);
    });

    it('removes its abort listener once settled', async () => {
      const controller = new AbortController();
      const push = makePush({ signal: controller.signal });
      push.reply('ok', {});
      controller.abort();
      await expect(push.promise).resolves.toMatchObject({ status: 'ok' });
    });
  });
});

describe('Push onSettled', () => {
  it('receives the error when the push fails', () => {
    vi.useFakeTimers();
    const onSettled = vi.fn();
    const push = makePush({ onSettled });
    push.promise.catch(() => undefined);
    vi.advanceTimersByTime(1000);
    expect(onSettled).toHaveBeenCalledWith(push, null, expect.objectContaining({ code: 'PHX_PUSH_TIMEOUT' }));
  });
});
