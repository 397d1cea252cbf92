import { describe, expect, it } from 'vitest';
import { StatusReporter } from './status-reporter.js';

describe('StatusReporter', () => {
  it('escapes and bounds every reason, whoever built it', () => {
    const sent: Record<string, unknown>[] = [];
    const reporter = new StatusReporter((_event, payload) => {
      sent.push(payload);
      return true;
    });
    const reason = `firmware ${'\x00\n'.repeat(10)}${'u'.repeat(900_000)} is already running`;
    reporter.status('ignored', { reason });
    reporter.status('rescheduled', { delay_for: 1000, reason: 'short' });
    const [first, second] = sent;
    expect(String(first?.reason).length).toBeLessThanOrEqual(600);
    expect(first?.reason).toMatch(/^firmware (\\x00\\n){10}u+… \(\d+ characters\)$/);
    expect(first?.reason).toContain(`(${reason.length} characters)`);
    expect(second).toEqual({ status: 'rescheduled', delay_for: 1000, reason: 'short' });
  });
});
