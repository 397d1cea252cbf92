import { describe, expect, it } from 'vitest';
import {
  checkTimeZone,
  formatLocalTime,
  type MaintenanceWindow,
  parseWindow,
  windowState,
  zoneName,
} from './maintenance-window.js';

function windows(...texts: string[]): MaintenanceWindow[] {
  return texts.map((text) => {
    const parsed = parseWindow(text);
    if (!parsed.ok) throw new Error(`${text}: ${parsed.problem}`);
    return parsed.window;
  });
}

const at = (iso: string) => Date.parse(iso);
const iso = (ms: number) => new Date(ms).toISOString();

describe('parseWindow', () => {
  it('reads days, ranges, lists and times', () => {
    expect(parseWindow('Mon-Fri 02:00-05:00')).toEqual({
      ok: true,
      window: {
        text: 'Mon-Fri 02:00-05:00',
        days: new Set([1, 2, 3, 4, 5]),
        startMinute: 120,
        endMinute: 300,
        crossesMidnight: false,
      },
    });
    const wrapping = parseWindow('fri-MON 23:30-1:00');
    expect(wrapping.ok && [...wrapping.window.days].sort()).toEqual([0, 1, 5, 6]);
    expect(wrapping.ok && wrapping.window.crossesMidnight).toBe(true);
    const list = parseWindow('Sat,Sunday,Tue-Wed 00:00-24:00');
    expect(list.ok && [...list.window.days].sort()).toEqual([0, 2, 3, 6]);
    expect(list.ok && list.window.endMinute).toBe(1440);
    const daily = parseWindow('22:00 - 04:00');
    expect(daily.ok && daily.window.days.size).toBe(7);
  });

  it('says what is wrong', () => {
    const problems: Array<[string, RegExp]> = [
      ['', /expected "\[days\] HH:MM-HH:MM"/],
      ['Mon-Fri', /expected "\[days\] HH:MM-HH:MM"/],
      ['Mon-Fri 2-5', /expected/],
      ['Mon-Fri 25:00-05:00', /start time is not a time of day/],
      ['Mon-Fri 02:00-05:60', /end time is not a time of day/],
      ['24:00-05:00', /start time/],
      ['Mon 03:00-03:00', /same time; write 00:00-24:00 for a whole day/],
      ['00:00-00:00', /same time/],
      ['Mo-Fr 02:00-05:00', /"Mo-Fr" is not a day or a range of days/],
      ['Mon-Tue-Wed 02:00-05:00', /not a day or a range/],
    ];
    for (const [text, problem] of problems) {
      const parsed = parseWindow(text);
      expect(parsed.ok, text).toBe(false);
      expect((parsed as { problem: string }).problem, text).toMatch(problem);
    }
  });
});

describe('windowState', () => {
  const weekdays = windows('Mon-Fri 02:00-05:00');

  it('inside: until the window closes; outside: when the next one opens', () => {
    // 2026-08-26 is a Wednesday.
    expect(windowState(at('2026-08-26T03:00:00Z'), weekdays, 'UTC')).toEqual({
      inside: true,
      closesAt: at('2026-08-26T05:00:00Z'),
    });
    expect(windowState(at('2026-08-26T02:00:00Z'), weekdays, 'UTC').inside).toBe(true);
    // The end is not inside.
    expect(windowState(at('2026-08-26T05:00:00Z'), weekdays, 'UTC')).toEqual({
      inside: false,
      opensAt: at('2026-08-27T02:00:00Z'),
      closesAt: at('2026-08-27T05:00:00Z'),
    });
    expect(windowState(at('2026-08-26T01:59:59Z'), weekdays, 'UTC')).toMatchObject({
      inside: false,
      opensAt: at('2026-08-26T02:00:00Z'),
    });
  });

  it('skips the days without a window: Friday after it closed waits for Monday', () => {
    const state = windowState(at('2026-08-28T06:00:00Z'), weekdays, 'UTC');
    expect(state).toMatchObject({ inside: false, opensAt: at('2026-08-31T02:00:00Z') });
    // One day a week, already past today: next week.
    const weekly = windowState(at('2026-08-26T12:00:00Z'), windows('Wed 10:00-11:00'), 'UTC');
    expect(weekly).toMatchObject({ opensAt: at('2026-09-02T10:00:00Z') });
  });

  it('a window crossing midnight is open after midnight on the next day, and belongs to its opening day', () => {
    const friday = windows('Fri 23:00-01:00');
    // Saturday 00:30 is inside Friday's window.
    expect(windowState(at('2026-08-29T00:30:00Z'), friday, 'UTC')).toEqual({
      inside: true,
      closesAt: at('2026-08-29T01:00:00Z'),
    });
    // Friday 00:30 is not: Thursday has no window.
    expect(windowState(at('2026-08-28T00:30:00Z'), friday, 'UTC')).toMatchObject({
      inside: false,
      opensAt: at('2026-08-28T23:00:00Z'),
      closesAt: at('2026-08-29T01:00:00Z'),
    });
    const nightly = windows('22:00-04:00');
    expect(windowState(at('2026-08-26T21:00:00Z'), nightly, 'UTC')).toMatchObject({
      opensAt: at('2026-08-26T22:00:00Z'),
      closesAt: at('2026-08-27T04:00:00Z'),
    });
    expect(windowState(at('2026-08-27T03:59:00Z'), nightly, 'UTC').inside).toBe(true);
  });

  it('several windows: the earliest opening; overlapping ones close at the latest end', () => {
    const two = windows('Mon-Fri 02:00-05:00', 'Sat,Sun 10:00-12:00');
    // Saturday 06:00.
    expect(windowState(at('2026-08-29T06:00:00Z'), two, 'UTC')).toMatchObject({
      inside: false,
      opensAt: at('2026-08-29T10:00:00Z'),
    });
    const overlapping = windows('02:00-04:00', 'Wed 03:00-06:00');
    expect(windowState(at('2026-08-26T03:30:00Z'), overlapping, 'UTC')).toEqual({
      inside: true,
      closesAt: at('2026-08-26T06:00:00Z'),
    });
  });

  it('reads windows in the configured time zone', () => {
    // Berlin is UTC+2 in summer: 02:00-05:00 there is 00:00-03:00 UTC.
    expect(windowState(at('2026-08-26T01:00:00Z'), weekdays, 'Europe/Berlin')).toEqual({
      inside: true,
      closesAt: at('2026-08-26T03:00:00Z'),
    });
    expect(windowState(at('2026-08-26T04:00:00Z'), weekdays, 'Europe/Berlin')).toMatchObject({
      opensAt: at('2026-08-27T00:00:00Z'),
    });
    // Tokyo (UTC+9, no DST): Monday 02:00 there is Sunday 17:00 UTC.
    expect(windowState(at('2026-08-30T12:00:00Z'), weekdays, 'Asia/Tokyo')).toMatchObject({
      opensAt: at('2026-08-30T17:00:00Z'),
    });
    // The weekday is the zone's: Saturday 23:00 UTC is already Sunday in Tokyo, no window.
    expect(windowState(at('2026-08-29T23:00:00Z'), weekdays, 'Asia/Tokyo').inside).toBe(false);
  });

  it('without a time zone, uses the system local time', () => {
    const now = at('2026-08-26T12:00:00Z');
    expect(windowState(now, weekdays, undefined)).toEqual(windowState(now, weekdays, zoneName(undefined)));
  });

  describe('daylight saving time (Europe/Berlin: 2026-03-29 02:00 → 03:00, 2026-10-25 03:00 → 02:00)', () => {
    const sunday = windows('Sun 02:00-05:00');

    it('spring: a window opening in the skipped hour opens when the clocks have jumped, and is shorter', () => {
      const state = windowState(at('2026-03-28T22:00:00Z'), sunday, 'Europe/Berlin');
      // 02:00 does not exist: the window opens at 03:00 CEST (01:00 UTC) and closes at 05:00 CEST (03:00 UTC).
      expect(state).toEqual({
        inside: false,
        opensAt: at('2026-03-29T01:00:00Z'),
        closesAt: at('2026-03-29T03:00:00Z'),
      });
      // The clock jumps from 01:59:59 to 03:00, the first time it shows 02:30 or later: the window opens then.
      const halfPast = windows('Sun 02:30-06:00');
      expect(windowState(at('2026-03-28T22:00:00Z'), halfPast, 'Europe/Berlin')).toMatchObject({
        opensAt: at('2026-03-29T01:00:00Z'),
      });
    });

    it('spring: a window wholly in the skipped hour does not open that day', () => {
      const gap = windows('Sun 02:00-03:00');
      expect(windowState(at('2026-03-28T22:00:00Z'), gap, 'Europe/Berlin')).toMatchObject({
        inside: false,
        opensAt: at('2026-04-05T00:00:00Z'), // the next Sunday, 02:00 CEST
      });
    });

    it('spring: in the week before, a window wholly in the skipped hour waits for the Sunday after', () => {
      // Monday 2026-03-23 to Sunday 2026-03-29 01:59 CET: the next 02:00-03:00 that exists is on 2026-04-05.
      const gap = windows('Sun 02:00-03:00');
      for (let now = at('2026-03-22T02:00:00Z'); now < at('2026-03-29T01:00:00Z'); now += 3_600_000) {
        expect(windowState(now, gap, 'Europe/Berlin'), iso(now)).toEqual({
          inside: false,
          opensAt: at('2026-04-05T00:00:00Z'),
          closesAt: at('2026-04-05T01:00:00Z'),
        });
      }
      // Sunday 00:00-01:00 in Santiago and Havana, where midnight is the hour skipped.
      const midnight = windows('Sun 00:00-01:00');
      expect(windowState(at('2026-09-01T12:00:00Z'), midnight, 'America/Santiago')).toMatchObject({
        opensAt: at('2026-09-13T03:00:00Z'), // 2026-09-06 00:00 does not exist there
      });
      expect(windowState(at('2026-03-02T12:00:00Z'), midnight, 'America/Havana')).toMatchObject({
        opensAt: at('2026-03-15T04:00:00Z'), // nor 2026-03-08 00:00 in Havana
      });
      expect(formatLocalTime(at('2026-04-05T00:00:00Z'), 'Europe/Berlin')).toBe('2026-04-05 02:00');
    });

    it('autumn: a window over the repeated hour opens at its first occurrence and lasts an hour longer', () => {
      const state = windowState(at('2026-10-24T22:00:00Z'), sunday, 'Europe/Berlin');
      // 02:00 CEST (00:00 UTC) to 05:00 CET (04:00 UTC): four hours.
      expect(state).toEqual({
        inside: false,
        opensAt: at('2026-10-25T00:00:00Z'),
        closesAt: at('2026-10-25T04:00:00Z'),
      });
      expect(windowState(at('2026-10-25T01:30:00Z'), sunday, 'Europe/Berlin').inside).toBe(true);
    });

    it('crossing midnight over a clock change (America/New_York, 2026-03-08 02:00 → 03:00)', () => {
      const nightly = windows('Sat 23:00-04:00');
      // Saturday 23:00 EST (04:00 UTC) to Sunday 04:00 EDT (08:00 UTC).
      expect(windowState(at('2026-03-07T20:00:00Z'), nightly, 'America/New_York')).toEqual({
        inside: false,
        opensAt: at('2026-03-08T04:00:00Z'),
        closesAt: at('2026-03-08T08:00:00Z'),
      });
    });
  });
});

describe('a skipped day (Pacific/Apia went from Thursday 2011-12-29 to Saturday 2011-12-31)', () => {
  it('a Friday window does not open on the Saturday after', () => {
    const friday = windows('Fri 02:00-05:00');
    // Thursday 2011-12-29 12:00 in Apia (UTC-10).
    const state = windowState(at('2011-12-29T22:00:00Z'), friday, 'Pacific/Apia');
    // The next Friday is 2012-01-06, 02:00 at UTC+14 (daylight saving time then).
    expect(state).toEqual({
      inside: false,
      opensAt: at('2012-01-05T12:00:00Z'),
      closesAt: at('2012-01-05T15:00:00Z'),
    });
    expect(formatLocalTime(state.inside ? 0 : state.opensAt, 'Pacific/Apia')).toBe('2012-01-06 02:00');
  });

  it('a Saturday window opens as usual, and one from Friday into Saturday for its Saturday part', () => {
    const now = at('2011-12-29T22:00:00Z');
    expect(windowState(now, windows('Sat 02:00-05:00'), 'Pacific/Apia')).toMatchObject({
      opensAt: at('2011-12-30T12:00:00Z'), // Saturday 02:00 at UTC+14
    });
    expect(windowState(now, windows('Fri 23:00-01:00'), 'Pacific/Apia')).toEqual({
      inside: false,
      opensAt: at('2011-12-30T10:00:00Z'), // Saturday 00:00, the first time the clock shows a time past Fri 23:00
      closesAt: at('2011-12-30T11:00:00Z'),
    });
  });
});

describe('time zones and local times', () => {
  it('knows IANA names and refuses others', () => {
    expect(() => checkTimeZone('Europe/Berlin')).not.toThrow();
    expect(() => checkTimeZone('UTC')).not.toThrow();
    expect(() => checkTimeZone('Mars/Olympus_Mons')).toThrow(RangeError);
  });

  it('formats an instant as the wall clock of the zone', () => {
    expect(formatLocalTime(at('2026-08-26T00:00:00Z'), 'Europe/Berlin')).toBe('2026-08-26 02:00');
    expect(formatLocalTime(at('2026-08-26T00:00:00Z'), 'America/Los_Angeles')).toBe('2026-08-25 17:00');
    expect(iso(at('2026-08-26T00:00:00Z'))).toBe('2026-08-26T00:00:00.000Z');
  });
});
