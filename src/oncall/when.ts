/**
 * The times people type in Slack for `/escalator cover @person <from> <to>` and `take [duration]`,
 * read in the schedule's time zone: `now`, a local date-time (`2026-12-24T09:00`), a local time
 * (`17:00`: the next time the clock shows it), or for the end a duration (`4h`, `30m`, `2d`).
 */
import { DAY_MS, HOUR_MS, instantOf, localOf, MINUTE_MS, parseLocalDateTime, startOfLocalDay } from './zone-clock';

const LOCAL_TIME = /^([01]?\d|2[0-3]):([0-5]\d)$/;
const DURATION = /^(\d{1,4})(m|min|h|d)$/;
const UNIT_MS: Record<string, number> = { m: MINUTE_MS, min: MINUTE_MS, h: HOUR_MS, d: DAY_MS };

/** `30m`, `4h`, `2d` in milliseconds, or undefined. */
export function parseSpan(text: string): number | undefined {
  const match = DURATION.exec(text.trim().toLowerCase());
  if (!match) return undefined;
  const ms = Number(match[1]) * (UNIT_MS[match[2] as string] as number);
  return ms > 0 ? ms : undefined;
}

/**
 * An instant from what a person typed, in `timeZone`: a local time is the first time after
 * `after` that the clock shows it (today or tomorrow). Undefined when it is none of the forms.
 */
export function parseWhen(text: string, timeZone: string, after: number): number | undefined {
  const word = text.trim();
  if (word.toLowerCase() === 'now') return after;
  const local = parseLocalDateTime(word);
  if (local !== undefined) return instantOf(timeZone, local);
  const time = LOCAL_TIME.exec(word);
  if (!time) return undefined;
  const today = startOfLocalDay(localOf(timeZone, after)) + Number(time[1]) * HOUR_MS + Number(time[2]) * MINUTE_MS;
  const instant = instantOf(timeZone, today);
  return instant > after ? instant : instantOf(timeZone, today + DAY_MS);
}

/** The end of a range: a duration from `start`, or a time as parseWhen reads it after `start`. */
export function parseUntil(text: string, timeZone: string, start: number): number | undefined {
  const span = parseSpan(text);
  return span === undefined ? parseWhen(text, timeZone, start) : start + span;
}
