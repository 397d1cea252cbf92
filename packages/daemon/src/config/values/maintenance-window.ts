/**
 * Maintenance windows (`updates.window`): when an offer may start. A window is written
 * `[days] HH:MM-HH:MM` in the device's local time or `updates.timezone`, e.g. `Mon-Fri 02:00-05:00`,
 * `Sat,Sun 00:00-24:00`, `22:00-04:00` (every day, crossing midnight). The days name the day a window opens on.
 *
 * Daylight saving time follows the wall clock: a time that does not exist that day (in the hour skipped in spring)
 * moves forward by the length of the gap (02:30 becomes 03:30 when clocks go from 02:00 to 03:00), a time that
 * exists twice (in the hour repeated in autumn) is its first occurrence; JavaScript's Temporal reads them alike.
 */

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
const DAY_MS = 86_400_000;

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
  const zone = new Zone(timeZone);
  const today = zone.civilDate(now);
  let closesAt: number | undefined;
  let next: { opensAt: number; closesAt: number } | undefined;
  // Yesterday's windows may still be open. A weekly window whose time today has passed opens in 7 days, or in 8
  // when tomorrow's is empty because of a clock change.
  for (let offset = -1; offset <= 8; offset++) {
    const date = addDays(today, offset);
    const weekday = new Date(Date.UTC(date.year, date.month - 1, date.day)).getUTCDay();
    for (const window of windows) {
      if (!window.days.has(weekday)) continue;
      const open = zone.instant(date, window.startMinute);
      const close = zone.instant(window.crossesMidnight ? addDays(date, 1) : date, window.endMinute);
      // Empty on the day of a clock change, e.g. 02:00-03:00 when 02:00 becomes 03:00.
      if (close <= open) continue;
      if (open <= now && now < close) closesAt = Math.max(closesAt ?? close, close);
      else if (open > now && (next === undefined || open < next.opensAt))
        next = { opensAt: open, closesAt: close };
    }
  }
  if (closesAt !== undefined) return { inside: true, closesAt };
  if (next === undefined) throw new Error('windowState needs at least one window');
  return { inside: false, ...next };
}

/** `2026-08-24 02:00` in `timeZone` (local time when undefined), for messages and `status`. */
export function formatLocalTime(instant: number, timeZone: string | undefined): string {
  const { year, month, day, minuteOfDay } = new Zone(timeZone).wallClock(instant);
  const pad = (value: number) => String(value).padStart(2, '0');
  return `${year}-${pad(month)}-${pad(day)} ${pad(Math.floor(minuteOfDay / 60))}:${pad(minuteOfDay % 60)}`;
}

interface CivilDate {
  readonly year: number;
  readonly month: number;
  readonly day: number;
}

function addDays(date: CivilDate, days: number): CivilDate {
  const moved = new Date(Date.UTC(date.year, date.month - 1, date.day + days));
  return { year: moved.getUTCFullYear(), month: moved.getUTCMonth() + 1, day: moved.getUTCDate() };
}

const formatters = new Map<string, Intl.DateTimeFormat>();

/** Wall-clock arithmetic in one time zone through Intl (no time zone database of our own). */
class Zone {
  readonly #format: Intl.DateTimeFormat;

  constructor(timeZone: string | undefined) {
    const key = timeZone ?? '';
    let format = formatters.get(key);
    if (!format) {
      format = new Intl.DateTimeFormat('en-US', {
        ...(timeZone !== undefined ? { timeZone } : {}),
        hourCycle: 'h23',
        year: 'numeric',
        month: 'numeric',
        day: 'numeric',
        hour: 'numeric',
        minute: 'numeric',
        second: 'numeric',
      });
      formatters.set(key, format);
    }
    this.#format = format;
  }

  wallClock(instant: number): CivilDate & { minuteOfDay: number; second: number } {
    const parts: Record<string, number> = {};
    for (const part of this.#format.formatToParts(instant)) {
      if (part.type !== 'literal') parts[part.type] = Number(part.value);
    }
    return {
      year: parts.year!,
      month: parts.month!,
      day: parts.day!,
      minuteOfDay: (parts.hour! % 24) * 60 + parts.minute!,
      second: parts.second!,
    };
  }

  civilDate(instant: number): CivilDate {
    const { year, month, day } = this.wallClock(instant);
    return { year, month, day };
  }

  /** Local time minus UTC at `instant`, in milliseconds. */
  offsetAt(instant: number): number {
    const wall = this.wallClock(instant);
    const asUtc = Date.UTC(wall.year, wall.month - 1, wall.day, 0, wall.minuteOfDay, wall.second);
    return asUtc - (instant - (((instant % 1000) + 1000) % 1000));
  }

  /** The instant the wall clock shows `minute` minutes after midnight of `date` (1440 = next midnight). */
  instant(date: CivilDate, minute: number): number {
    const wall = Date.UTC(date.year, date.month - 1, date.day, 0, minute);
    // The offsets in force a day before and after cover any one transition near this time.
    const before = this.offsetAt(wall - DAY_MS);
    const after = this.offsetAt(wall + DAY_MS);
    const matches = [...new Set([before, after])]
      .map((offset) => wall - offset)
      .filter((candidate) => this.offsetAt(candidate) === wall - candidate);
    if (matches.length > 0) return Math.min(...matches);
    // In the gap of a spring-forward: read with the offset before it, which lands just as far after the gap.
    return wall - before;
  }
}
