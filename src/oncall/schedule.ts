/**
 * A schedule as data: its zone, its rotations (the shape PRODUCT.md's "On call" gives, validated
 * by zod here for the API and for what is read back from the database), and its overrides; and
 * the same compiled to numbers once, for the who-is-on-call functions.
 */
import { z } from 'zod';
import { DAY_MS, HOUR_MS, instantOf, isIanaTimeZone, parseLocalDateTime } from './zone-clock';

export const SLACK_USER_ID = /^[UW][A-Z0-9]+$/;
/** Index = `Date#getUTCDay()` of a local date-time. */
export const WEEKDAYS = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'] as const;
export type Weekday = (typeof WEEKDAYS)[number];

/** The longest shift a rotation may have: a year of weeks. */
const MAX_SHIFT_MS = 53 * 7 * DAY_MS;
const UNIT_MS = { hourly: HOUR_MS, daily: DAY_MS, weekly: 7 * DAY_MS } as const;

const userIdSchema = z.string().regex(SLACK_USER_ID, 'must be a Slack user id such as U0123ABCD');
const localTimeSchema = z.string().regex(/^(?:[01]\d|2[0-3]):[0-5]\d$|^24:00$/, 'must be a local time such as 09:00');
const localDateTimeSchema = z
  .string()
  .refine((text) => parseLocalDateTime(text) !== undefined, 'must be a local date-time such as 2026-03-02T09:00');
/** An instant ("2026-03-02T09:00:00Z", "…+01:00") or a local date-time in the schedule's zone. */
const boundSchema = z
  .string()
  .refine(
    (text) => parseLocalDateTime(text) !== undefined || isInstant(text),
    'must be an ISO 8601 instant such as 2026-03-02T09:00:00Z or a local date-time such as 2026-03-02T09:00'
  );

export const activeWindowSchema = z.object({
  days: z.array(z.enum(WEEKDAYS)).max(7).optional(),
  from: localTimeSchema,
  to: localTimeSchema,
});

export const rotationSchema = z
  .object({
    name: z.string().trim().min(1, 'must not be empty').max(80),
    kind: z.enum(['hourly', 'daily', 'weekly']),
    every: z.number().int().min(1).optional(),
    handoff: localDateTimeSchema,
    members: z.array(z.union([userIdSchema, z.array(userIdSchema).min(1).max(50)])).max(200),
    layer: z.number().int().min(0).max(100).optional(),
    activeWindows: z.array(activeWindowSchema).max(50).optional(),
    startsAt: boundSchema.optional(),
    endsAt: boundSchema.optional(),
  })
  .refine((rotation) => UNIT_MS[rotation.kind] * (rotation.every ?? 1) <= MAX_SHIFT_MS, {
    message: 'a shift may last at most 53 weeks',
    path: ['every'],
  });

export type ActiveWindow = z.infer<typeof activeWindowSchema>;
export type Rotation = z.infer<typeof rotationSchema>;

export const timeZoneSchema = z
  .string()
  .refine(isIanaTimeZone, 'must be an IANA time zone such as Europe/Berlin or America/New_York');

export const rotationsSchema = z
  .array(rotationSchema)
  .max(20)
  .refine(
    (rotations) => new Set(rotations.map((rotation) => rotation.name)).size === rotations.length,
    'rotation names must be distinct: shifts and answers name their rotation'
  );

/** An override as the core sees it (instants as epoch milliseconds). */
export interface Override {
  id: string;
  start: number;
  end: number;
  addUserId?: string | null;
  removeUserId?: string | null;
  /** Orders overrides: where two disagree, the newer has the last word. */
  createdAt: number;
  /** Who asked for it (a Slack user id), when known. */
  createdBy?: string | null;
}

export interface Schedule {
  timeZone: string;
  rotations: Rotation[];
  overrides: Override[];
}

/** A rotation with its times as numbers: local milliseconds for wall-clock times, epoch ms for instants. */
export interface CompiledRotation {
  index: number;
  name: string;
  layer: number;
  handoffLocal: number;
  /** One shift's length in local wall-clock milliseconds. */
  periodLocal: number;
  members: string[][];
  /** Null: active all the time. */
  windows: CompiledWindow[] | null;
  startsAt: number;
  endsAt: number;
}

export interface CompiledWindow {
  /** By weekday index; null: every day. */
  days: boolean[] | null;
  /** Minutes after local midnight of the day the window opens. */
  from: number;
  /** Minutes after that same midnight (a day more when `to` is not after `from`). */
  to: number;
}

export interface CompiledSchedule {
  timeZone: string;
  rotations: CompiledRotation[];
  /** Oldest first. */
  overrides: Override[];
}

function isInstant(text: string): boolean {
  return (
    /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:\d{2})$/i.test(text) && !isNaN(Date.parse(text))
  );
}

function minutesOf(time: string): number {
  const [hours, minutes] = time.split(':').map(Number) as [number, number];
  return hours * 60 + minutes;
}

/** An instant given as ISO 8601 with an offset, or a local date-time in `timeZone`, as epoch ms. */
export function boundInstant(text: string, timeZone: string): number {
  const local = parseLocalDateTime(text);
  return local === undefined ? Date.parse(text) : instantOf(timeZone, local);
}

function compileRotation(rotation: Rotation, index: number, timeZone: string): CompiledRotation {
  return {
    index,
    name: rotation.name,
    layer: rotation.layer ?? 0,
    handoffLocal: parseLocalDateTime(rotation.handoff)!,
    periodLocal: UNIT_MS[rotation.kind] * (rotation.every ?? 1),
    members: rotation.members.map((member) => (typeof member === 'string' ? [member] : [...new Set(member)])),
    windows: rotation.activeWindows?.length
      ? rotation.activeWindows.map((window) => {
          const from = minutesOf(window.from);
          let to = minutesOf(window.to);
          if (to <= from) to += 24 * 60;
          return {
            days: window.days ? WEEKDAYS.map((day) => window.days!.includes(day)) : null,
            from,
            to,
          };
        })
      : null,
    startsAt: rotation.startsAt === undefined ? -Infinity : boundInstant(rotation.startsAt, timeZone),
    endsAt: rotation.endsAt === undefined ? Infinity : boundInstant(rotation.endsAt, timeZone),
  };
}

const compiled = new WeakMap<Schedule, CompiledSchedule>();

/** The schedule as numbers, kept per schedule object (schedules are not changed in place). */
export function compileSchedule(schedule: Schedule): CompiledSchedule {
  let result = compiled.get(schedule);
  if (!result) {
    result = {
      timeZone: schedule.timeZone,
      rotations: schedule.rotations.map((rotation, index) => compileRotation(rotation, index, schedule.timeZone)),
      overrides: [...schedule.overrides].sort((a, b) => a.createdAt - b.createdAt || (a.id < b.id ? -1 : 1)),
    };
    compiled.set(schedule, result);
  }
  return result;
}
