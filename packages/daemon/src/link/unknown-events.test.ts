import { describe, expect, it } from 'vitest';
import { UNKNOWN_LINES_PER_WINDOW, UNKNOWN_NAMES_KEPT, UnknownEvents } from './unknown-events.js';

function events(windowMs = 60_000) {
  const lines: string[] = [];
  const clock = { now: 1_000_000 };
  const unknown = new UnknownEvents({
    logger: { info: (line) => lines.push(line) },
    now: () => clock.now,
    windowMs,
  });
  return { lines, clock, unknown };
}

describe('UnknownEvents', () => {
  it('logs each name once, escaped and bounded', () => {
    const { lines, unknown } = events();
    unknown.seen('archive');
    unknown.seen('archive');
    unknown.seen(`made\x1b[2Jup${'x'.repeat(10_000)}`);
    expect(lines).toHaveLength(2);
    expect(lines[0]).toBe(
      'ignoring "archive" from the server (not supported by this client); further ones are not logged',
    );
    expect(lines[1]).toMatch(
      /^ignoring "made\\x1b\[2Jupx+… \(10010 characters\)" from the server \(unknown event\)/,
    );
    expect(lines[1]!.length).toBeLessThan(200);
  });

  it('200,000 distinct names: bounded memory, a few lines a minute and one line for the rest', () => {
    const { lines, clock, unknown } = events();
    for (let i = 0; i < 200_000; i++) unknown.seen(`event-${i}`);
    expect(unknown.remembered).toBe(UNKNOWN_NAMES_KEPT);
    expect(lines).toHaveLength(UNKNOWN_LINES_PER_WINDOW);
    clock.now += 60_000;
    unknown.seen('one-more');
    expect(lines.slice(UNKNOWN_LINES_PER_WINDOW)).toEqual([
      `ignored ${200_000 - UNKNOWN_LINES_PER_WINDOW} more events of names the daemon does not handle from the server (not logged one by one)`,
      'ignoring "one-more" from the server (unknown event); further ones are not logged',
    ]);
    unknown.stop();
  });

  it('sums up what it did not log when the window ends, even if nothing more comes', async () => {
    const { lines, unknown } = events(50);
    for (let i = 0; i < UNKNOWN_LINES_PER_WINDOW + 5; i++) unknown.seen(`event-${i}`);
    expect(lines).toHaveLength(UNKNOWN_LINES_PER_WINDOW);
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(lines.at(-1)).toMatch(/^ignored 5 more events/);
  });
});
