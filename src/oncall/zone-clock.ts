/**
 * Wall-clock time in an IANA zone, the on-call way: local date-times are numbers of milliseconds
 * on the zone's own calendar (`Date.UTC(y, m, d, h, min)` read as local), instants are epoch
 * milliseconds, and converting local to instant resolves daylight-saving changes by our rule:
 *
 * - a local time that does not exist (spring forward) happens at the first instant after the gap
 *   (02:30 on a 02:00→03:00 night is 03:00, not 03:30 as Temporal's `compatible` and Luxon give);
 * - a local time that exists twice (fall back) happens at its first occurrence.
 *
 * The zone's rules (its offsets and when they change) come from the Temporal API
 * (`@js-temporal/polyfill`, over the IANA database Node's Intl carries); everything else is
 * arithmetic on numbers, so that 90 days of hourly shifts cost microseconds each. The rules are
 * read a calendar year at a time and kept: the answers are the same for the same input, whatever
 * the machine's own zone (nothing here reads it).
 */
import { Temporal } from '@js-temporal/polyfill';

export const MINUTE_MS = 60_000;
export const HOUR_MS = 3_600_000;
export const DAY_MS = 86_400_000;

/** A zone's offsets during one UTC calendar year: the offset on Jan 1, then each change. */
interface YearRules {
  startOffset: number;
  /** `at`: the instant of the change; `offset`: the offset (ms east of UTC) from then on. */
  changes: Array<{ at: number; offset: number }>;
}

const rulesByZone = new Map<string, Map<number, YearRules>>();

/** The earliest and latest years whose instants the on-call core works with. */
export const FIRST_YEAR = 1900;
export const LAST_YEAR = 2200;

function utcYear(instant: number): number {
  return new Date(instant).getUTCFullYear();
}

function yearRules(timeZone: string, year: number): YearRules {
  let years = rulesByZone.get(timeZone);
  if (!years) {
    years = new Map();
    rulesByZone.set(timeZone, years);
  }
  let rules = years.get(year);
  if (rules) return rules;
  const end = Date.UTC(year + 1, 0, 1);
  let zoned = Temporal.Instant.fromEpochMilliseconds(Date.UTC(year, 0, 1)).toZonedDateTimeISO(timeZone);
  rules = { startOffset: zoned.offsetNanoseconds / 1e6, changes: [] };
  for (;;) {
    const next = zoned.getTimeZoneTransition('next');
    if (!next || next.epochMilliseconds >= end) break;
    rules.changes.push({ at: next.epochMilliseconds, offset: next.offsetNanoseconds / 1e6 });
    zoned = next;
  }
  years.set(year, rules);
  return rules;
}

/** Milliseconds east of UTC in `timeZone` at `instant`. */
export function offsetAt(timeZone: string, instant: number): number {
  const rules = yearRules(timeZone, utcYear(instant));
  let offset = rules.startOffset;
  for (const change of rules.changes) {
    if (change.at > instant) break;
    offset = change.offset;
  }
  return offset;
}

/** The local wall-clock date-time (as local milliseconds) of `instant` in `timeZone`. */
export function localOf(timeZone: string, instant: number): number {
  return instant + offsetAt(timeZone, instant);
}

/**
 * The instant at which the local date-time `local` happens in `timeZone`: its first occurrence
 * when it exists twice, the first instant after the gap when it does not exist.
 */
export function instantOf(timeZone: string, local: number): number {
  // Offsets a day either side: real zones do not change twice within two days.
  const before = offsetAt(timeZone, local - DAY_MS);
  const after = offsetAt(timeZone, local + DAY_MS);
  const first = local - Math.max(before, after);
  if (offsetAt(timeZone, first) === Math.max(before, after)) return first;
  const second = local - Math.min(before, after);
  if (offsetAt(timeZone, second) === Math.min(before, after)) return second;
  // In a gap: the change happened at some instant T with T + before <= local < T + after.
  for (const year of new Set([utcYear(local - after), utcYear(local - before)])) {
    for (const change of yearRules(timeZone, year).changes) {
      if (change.at > local - after && change.at <= local - before) return change.at;
    }
  }
  return second;
}

/** Whether `timeZone` is an IANA zone name this runtime knows (offsets such as "+02:00" are not). */
export function isIanaTimeZone(timeZone: string): boolean {
  if (!/^[A-Za-z]/.test(timeZone)) return false;
  try {
    Temporal.Instant.fromEpochMilliseconds(0).toZonedDateTimeISO(timeZone);
    return true;
  } catch {
    return false;
  }
}

const LOCAL_DATE_TIME = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2}))?$/;

/** "2026-03-02T09:00" as local milliseconds, or undefined when it is not a real date and time. */
export function parseLocalDateTime(text: string): number | undefined {
  const match = LOCAL_DATE_TIME.exec(text);
  if (!match) return undefined;
  const [year, month, day, hour, minute, second] = [1, 2, 3, 4, 5, 6].map((i) => Number(match[i] ?? 0)) as [
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  if (year < FIRST_YEAR || year > LAST_YEAR || hour > 23 || minute > 59 || second > 59) return undefined;
  const local = Date.UTC(year, month - 1, day, hour, minute, second);
  const back = new Date(local);
  if (back.getUTCMonth() !== month - 1 || back.getUTCDate() !== day) return undefined;
  return local;
}

/** Local midnight of the day that `local` falls in. */
export function startOfLocalDay(local: number): number {
  return Math.floor(local / DAY_MS) * DAY_MS;
}

/** 0 for Sunday … 6 for Saturday, of a local date-time. */
export function localWeekday(local: number): number {
  return new Date(local).getUTCDay();
}

const WEEKDAY_NAMES = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];

/** "Mon 09:00": a local date-time as people say it within a week. */
export function formatLocalWeekdayTime(local: number): string {
  const date = new Date(local);
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${WEEKDAY_NAMES[date.getUTCDay()]} ${pad(date.getUTCHours())}:${pad(date.getUTCMinutes())}`;
}
