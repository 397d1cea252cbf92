/**
 * Maintenance windows (`updates.window`): when an offer may start. A window is written
 * `[days] HH:MM-HH:MM` in the device's local time or `updates.timezone`, e.g. `Mon-Fri 02:00-05:00`,
 * `Sat,Sun 00:00-24:00`, `22:00-04:00` (every day, crossing midnight). The days name the day a window opens on.
 *
 * Windows are wall time: a window opens the first time the clock on the wall shows its start (or a later time)
 * on its day, and closes the first time it shows its end. So across the clock changes:
 * - a start in the hour skipped in spring opens when the clock jumps (`02:30-06:00` opens at 03:00 when clocks
 *   go from 02:00 to 03:00), and a window wholly in it (`02:00-03:00`) does not open that day;
 * - over the hour repeated in autumn, a window opens at the first 02:00 and closes at the first time its end is
 *   shown (`02:00-05:00` lasts four hours that night);
 * - a day the zone skipped has no window (Pacific/Apia went from 2011-12-29 to 2011-12-31: no Friday); a window
 *   crossing midnight into the next day is open for what of it the clock shows.
 * The next opening is always found, however many windows a clock change removes (a weekly window in the week
 * of a spring-forward opens a week later).
 */
import { addDays, type CivilDate, WallClock, wallTimeOf, weekday } from './wall-clock.js';

export interface MaintenanceWindow {
  /** As written in the config, for messages. */
  readonly text: string;
  /** Weekdays the window opens on, 0 = Sunday … 6 = Saturday. */
  readonly days: ReadonlySet<number>;
  /** Minutes after local midnight: start in [0, 1439], end in [1, 1440]. */
  readonly startMinute: number;
  readonly endMinute: number;
  /** The end is on the next day (end ≤ start). */
  readonly crossesMidnight: boolean;
}

export type WindowState =
  | { readonly inside: true; readonly closesAt: number }
  | { readonly inside: false; readonly opensAt: number; readonly closesAt: number };

const DAY_NAMES = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'] as const;
const FULL_DAY_NAMES = ['sunday', 'monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday'];
/**
 * How far ahead the next opening is looked for. A window opens on at least one weekday, and a clock change takes
 * out at most one day: within a few weeks one opens, in every zone (tested over every IANA zone); this only bounds
 * the loop.
 */
const LOOK_AHEAD_DAYS = 400;

/** Reads one window; the error message says what is wrong and what is expected. */
export function parseWindow(
  text: string,
): { ok: true; window: MaintenanceWindow } | { ok: false; problem: string } {
  const expected = 'expected "[days] HH:MM-HH:MM", e.g. "Mon-Fri 02:00-05:00" or "22:00-04:00"';
  const match = /^\s*(?:(\S+)\s+)?(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*$/.exec(text);
  if (!match) return { ok: false, problem: expected };
  const [, daysText, startHour, startMin, endHour, endMin] = match;
  const start = minuteOfDay(Number(startHour), Number(startMin), false);
  const end = minuteOfDay(Number(endHour), Number(endMin), true);
  if (start === undefined) return { ok: false, problem: `the start time is not a time of day; ${expected}` };
  if (end === undefined) return { ok: false, problem: `the end time is not a time of day; ${expected}` };
  if (start === end) {
    return {
      ok: false,
      problem: 'the window opens and closes at the same time; write 00:00-24:00 for a whole day',
    };
  }
  const days = daysText === undefined ? new Set([0, 1, 2, 3, 4, 5, 6]) : parseDays(daysText);
  if (typeof days === 'string') return { ok: false, problem: days };
  return {
    ok: true,
    window: { text: text.trim(), days, startMinute: start, endMinute: end, crossesMidnight: end <= start },
  };
}

function minuteOfDay(hour: number, minute: number, isEnd: boolean): number | undefined {
  if (minute > 59) return undefined;
  if (hour === 24 && minute === 0 && isEnd) return 1440;
  if (hour > 23) return undefined;
  return hour * 60 + minute;
}

/** `Mon`, `Mon-Fri`, `Fri-Mon` (wrapping), `Sat,Sun`, `Mon-Wed,Fri`; three letters or full names, any case. */
function parseDays(text: string): Set<number> | string {
  const days = new Set<number>();
  for (const part of text.split(',')) {
    const [from, to, ...rest] = part.split('-');
    const first = dayIndex(from);
    const last = to === undefined ? first : dayIndex(to);
    if (rest.length > 0 || first === undefined || last === undefined) {
      return `"${part}" is not a day or a range of days; use Mon, Tue, Wed, Thu, Fri, Sat, Sun, e.g. "Mon-Fri" or "Sat,Sun"`;
    }
    for (let day = first; ; day = (day + 1) % 7) {
      days.add(day);
      if (day === last) break;
    }
  }
  return days;
}

function dayIndex(name: string | undefined): number | undefined {
  if (name === undefined) return undefined;
  const lower = name.trim().toLowerCase();
  const short = DAY_NAMES.indexOf(lower as (typeof DAY_NAMES)[number]);
  if (short !== -1) return short;
  const full = FULL_DAY_NAMES.indexOf(lower);
  return full === -1 ? undefined : full;
}

/** Throws a RangeError for a time zone this Node does not know. `undefined` is the system's local time. */
export function checkTimeZone(timeZone: string): void {
  new Intl.DateTimeFormat('en-US', { timeZone });
}

/** The zone windows are read in, by name, for messages. */
export function zoneName(timeZone: string | undefined): string {
  return timeZone ?? new Intl.DateTimeFormat().resolvedOptions().timeZone ?? 'local time';
}

/**
 * Whether `now` is inside one of `windows`; if so, when that window closes (the latest close among windows open
 * now), else when the next one opens and closes. `windows` must not be empty.
 */
export function windowState(
  now: number,
  windows: readonly MaintenanceWindow[],
  timeZone: string | undefined,
): WindowState {
  if (windows.length === 0) throw new Error('windowState needs at least one window');
  const clock = WallClock.of(timeZone);
  const today = clock.date(now);
  let closesAt: number | undefined;
  let next: { opensAt: number; closesAt: number } | undefined;
  // From two days back (a window crossing midnight may still be open, even after a skipped day) to the first day
  // after today with an opening: a later day's windows all open later.
  for (let offset = -2; next === undefined || offset <= 1; offset++) {
    if (offset > LOOK_AHEAD_DAYS) {
      throw new Error(`no maintenance window opens within ${LOOK_AHEAD_DAYS} days`);
    }
    const date = addDays(today, offset);
    for (const window of windows) {
      if (!window.days.has(weekday(date))) continue;
      const { opensAt, closesAt: closes } = opening(clock, date, window);
      // Empty when the clock skips all of it, e.g. 02:00-03:00 when 02:00 becomes 03:00.
      if (closes <= opensAt) continue;
      if (opensAt <= now && now < closes) closesAt = Math.max(closesAt ?? closes, closes);
      else if (opensAt > now && (next === undefined || opensAt < next.opensAt)) {
        next = { opensAt, closesAt: closes };
      }
    }
  }
  if (closesAt !== undefined) return { inside: true, closesAt };
  return { inside: false, ...next! };
}

/** When `window` opens on `date` and when it closes, on `clock`. */
function opening(
  clock: WallClock,
  date: CivilDate,
  window: MaintenanceWindow,
): { opensAt: number; closesAt: number } {
  const end = window.crossesMidnight ? window.endMinute + 1440 : window.endMinute;
  return {
    opensAt: clock.firstShowing(wallTimeOf(date, window.startMinute)),
    closesAt: clock.firstShowing(wallTimeOf(date, end)),
  };
}

/** `2026-08-24 02:00` in `timeZone` (local time when undefined), for messages and `status`. */
export function formatLocalTime(instant: number, timeZone: string | undefined): string {
  return new Date(WallClock.of(timeZone).show(instant)).toISOString().slice(0, 16).replace('T', ' ');
}
