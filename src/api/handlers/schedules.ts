/** `/api/schedules`: on-call schedules, who is on call, their shifts and overrides; and the iCal feed. */
import type { Client } from '@temporalio/client';
import type { Request, RequestHandler } from 'express';
import { z } from 'zod';
import type { Config } from '../../config';
import type { Database } from '../../db/client';
import { scheduleCalendar } from '../../oncall/ical';
import { onCallAt, shiftsBetween } from '../../oncall/on-call';
import { rotationsSchema, SLACK_USER_ID, timeZoneSchema } from '../../oncall/schedule';
import { tellHandoffWatcher } from '../../oncall/handoff-watch';
import { createScheduleCache, loadSchedule } from '../../oncall/store';
import { FIRST_YEAR, LAST_YEAR } from '../../oncall/zone-clock';
import { HttpError } from '../errors';
import type { CredentialGuard } from '../middleware/credential-guard';
import {
  addOverride,
  createSchedule,
  deleteOverride,
  deleteSchedule,
  getSchedule,
  handoffOptions,
  listSchedules,
  OverrideChangesNothingError,
  replaceSchedule,
  UnknownTeamError,
  wantsHandoffWatcher,
} from '../services/schedules';
import { parseInput, pathId, UUID } from '../validation';

const DAY_MS = 86_400_000;
/** The years the on-call core answers for (time zone rules before and after are guesses anyway). */
const EARLIEST = Date.UTC(FIRST_YEAR, 0, 1);
const LATEST = Date.UTC(LAST_YEAR, 0, 1);
/** The longest range of shifts one request may ask for, and the longest override. */
const MAX_RANGE_MS = 366 * DAY_MS;
const DEFAULT_SHIFTS_RANGE_MS = 7 * DAY_MS;
/** Overrides the feed may show: its range (src/oncall/ical.ts) reaches at most 16 weeks back and 120 days ahead. */
const ICAL_OVERRIDES_BACK_MS = 120 * DAY_MS;
const ICAL_OVERRIDES_AHEAD_MS = 130 * DAY_MS;

/** An ISO 8601 instant with its offset, as epoch milliseconds (schedules, overrides, maintenance windows). */
export const instantSchema = z.iso
  .datetime({ offset: true, error: 'must be an ISO 8601 instant such as 2026-03-02T09:00:00Z' })
  .transform((text) => Date.parse(text))
  .refine((instant) => instant >= EARLIEST && instant < LATEST, `must be between ${FIRST_YEAR} and ${LAST_YEAR}`);
const userIdSchema = z.string().regex(SLACK_USER_ID, 'must be a Slack user id such as U0123ABCD');

const scheduleSchema = z.object({
  name: z.string().trim().min(1, 'must not be empty').max(100),
  timeZone: timeZoneSchema,
  rotations: rotationsSchema,
  teamId: z.string().regex(UUID, 'must be a team id').optional(),
  handoffNotices: z.boolean().optional(),
  slackUsergroupId: z
    .string()
    .regex(/^S[A-Z0-9]+$/, 'must be a Slack user group id such as S0123ABCD')
    .nullable()
    .optional(),
});

const overrideSchema = z
  .object({
    start: instantSchema,
    end: instantSchema,
    addUserId: userIdSchema.optional(),
    removeUserId: userIdSchema.optional(),
    createdBy: userIdSchema.optional(),
  })
  .refine((o) => o.addUserId !== undefined || o.removeUserId !== undefined, {
    message: 'give addUserId, removeUserId or both (a replacement)',
  })
  .refine((o) => o.addUserId === undefined || o.addUserId !== o.removeUserId, {
    message: 'addUserId and removeUserId are the same person',
  })
  .refine((o) => o.end > o.start, { message: 'must be after start', path: ['end'] })
  .refine((o) => o.end - o.start <= MAX_RANGE_MS, { message: 'an override may last at most 366 days', path: ['end'] });

const rangeSchema = z
  .object({ from: instantSchema.optional(), to: instantSchema.optional() })
  .transform((range, ctx) => {
    const from = range.from ?? Date.now();
    const to = range.to ?? from + DEFAULT_SHIFTS_RANGE_MS;
    if (!(to > from)) ctx.addIssue({ code: 'custom', message: 'must be after from', path: ['to'] });
    else if (to - from > MAX_RANGE_MS)
      ctx.addIssue({ code: 'custom', message: 'at most 366 days after from', path: ['to'] });
    return { from, to };
  });

export interface SchedulesDeps {
  db: Database;
  config: Config;
  /** Tells a schedule's handoff watcher about changes (oncall/handoff-watch.ts). */
  temporal: Client;
}

/**
 * Starts or wakes the schedule's handoff watcher after a change that is saved already. If Temporal
 * does not answer, the answer stays a success: the watcher is told when a worker next starts.
 */
async function tellWatcher(
  { temporal, config }: SchedulesDeps,
  req: Request,
  scheduleId: string,
  watched: boolean
): Promise<void> {
  try {
    await tellHandoffWatcher(temporal, { scheduleId, taskQueue: config.temporal.taskQueue, watched });
  } catch (error) {
    req.log.warn({ err: error, scheduleId }, 'handoff watcher not told of the change: it will be when a worker starts');
  }
}

function scheduleIdOf(param: unknown): string {
  return pathId(param, 'schedule');
}

function badTeam(error: unknown): never {
  if (error instanceof UnknownTeamError) throw new HttpError(400, error.message);
  throw error;
}

/** `POST /api/schedules` → 201 with the schedule and its calendar feed's URL. */
export function createScheduleHandler(deps: SchedulesDeps): RequestHandler {
  const { db, config } = deps;
  return async (req, res) => {
    const input = parseInput(scheduleSchema, req.body, 'body');
    const schedule = await createSchedule(db, config.publicUrl, input).catch(badTeam);
    req.log.info({ scheduleId: schedule.id, teamId: schedule.teamId }, 'schedule created');
    if (wantsHandoffWatcher(schedule)) await tellWatcher(deps, req, schedule.id, true);
    res.status(201).json(schedule);
  };
}

export function listSchedulesHandler({ db, config }: SchedulesDeps): RequestHandler {
  return async (_req, res) => {
    res.json({ schedules: await listSchedules(db, config.publicUrl) });
  };
}

export function getScheduleHandler({ db, config }: SchedulesDeps): RequestHandler {
  return async (req, res) => {
    const schedule = await getSchedule(db, config.publicUrl, scheduleIdOf(req.params.id));
    if (!schedule) throw new HttpError(404, 'no schedule with this id');
    res.json(schedule);
  };
}

/** `PUT /api/schedules/:id`: the same body as creation; the version goes up by one. */
export function replaceScheduleHandler(deps: SchedulesDeps): RequestHandler {
  const { db, config } = deps;
  return async (req, res) => {
    const id = scheduleIdOf(req.params.id);
    const input = parseInput(scheduleSchema, req.body, 'body');
    const schedule = await replaceSchedule(db, config.publicUrl, id, input).catch(badTeam);
    if (!schedule) throw new HttpError(404, 'no schedule with this id');
    req.log.info({ scheduleId: id, version: schedule.version }, 'schedule replaced');
    await tellWatcher(deps, req, id, wantsHandoffWatcher(schedule));
    res.json(schedule);
  };
}

export function deleteScheduleHandler(deps: SchedulesDeps): RequestHandler {
  const { db } = deps;
  return async (req, res) => {
    const id = scheduleIdOf(req.params.id);
    if (!(await deleteSchedule(db, id))) throw new HttpError(404, 'no schedule with this id');
    req.log.info({ scheduleId: id }, 'schedule deleted');
    await tellWatcher(deps, req, id, false);
    res.status(204).end();
  };
}

/** `GET /api/schedules/:id/oncall?at=`: who is on call at that instant (default now), until when, and why. */
export function onCallHandler({ db }: SchedulesDeps): RequestHandler {
  const schedules = createScheduleCache(db);
  return async (req, res) => {
    const id = scheduleIdOf(req.params.id);
    const { at } = parseInput(z.object({ at: instantSchema.optional() }), req.query, 'query');
    const instant = at ?? Date.now();
    const schedule = await schedules.load(id, instant);
    if (!schedule) throw new HttpError(404, 'no schedule with this id');
    const answer = onCallAt(schedule, instant);
    res.json({
      at: new Date(instant).toISOString(),
      users: answer.users,
      until: answer.until === null ? null : new Date(answer.until).toISOString(),
      via: answer.via,
      version: schedule.version,
    });
  };
}

/** `GET /api/schedules/:id/shifts?from=&to=`: everyone's shifts in the range, clipped to it, by start. */
export function shiftsHandler({ db }: SchedulesDeps): RequestHandler {
  return async (req, res) => {
    const id = scheduleIdOf(req.params.id);
    const { from, to } = parseInput(rangeSchema, req.query, 'query');
    const schedule = await loadSchedule(db, { id }, { from, to });
    if (!schedule) throw new HttpError(404, 'no schedule with this id');
    res.json({
      shifts: shiftsBetween(schedule, from, to).map((shift) => ({
        userId: shift.userId,
        start: new Date(shift.start).toISOString(),
        end: new Date(shift.end).toISOString(),
        rotation: shift.rotation,
        ...(shift.overrideId === undefined ? {} : { overrideId: shift.overrideId }),
      })),
    });
  };
}

/** `POST /api/schedules/:id/overrides` → 201 `{id}`; 400 with the reason when it would change nothing. */
/** After an override is added or deleted: the watcher of a schedule with handoff options looks again. */
async function overridesChanged(deps: SchedulesDeps, req: Request, scheduleId: string): Promise<void> {
  const options = await handoffOptions(deps.db, scheduleId);
  if (options && wantsHandoffWatcher(options)) await tellWatcher(deps, req, scheduleId, true);
}

export function addOverrideHandler(deps: SchedulesDeps): RequestHandler {
  const { db } = deps;
  return async (req, res) => {
    const id = scheduleIdOf(req.params.id);
    const input = parseInput(overrideSchema, req.body, 'body');
    try {
      const created = await addOverride(db, id, input);
      if (!created) throw new HttpError(404, 'no schedule with this id');
      req.log.info({ scheduleId: id, overrideId: created.id }, 'override added');
      await overridesChanged(deps, req, id);
      res.status(201).json(created);
    } catch (error) {
      if (error instanceof OverrideChangesNothingError) throw new HttpError(400, error.message);
      throw error;
    }
  };
}

export function deleteOverrideHandler(deps: SchedulesDeps): RequestHandler {
  const { db } = deps;
  return async (req, res) => {
    const id = scheduleIdOf(req.params.id);
    const overrideId = req.params.overrideId;
    if (typeof overrideId !== 'string' || !UUID.test(overrideId) || !(await deleteOverride(db, id, overrideId))) {
      throw new HttpError(404, 'no override with this id in this schedule');
    }
    req.log.info({ scheduleId: id, overrideId }, 'override deleted');
    await overridesChanged(deps, req, id);
    res.status(204).end();
  };
}

/** `GET /ical/:token.ics`: the schedule's shifts as iCalendar; `?user=U…` one person's. The token is the credential. */
export function icalHandler({ db, guard }: { db: Database; guard: CredentialGuard }): RequestHandler {
  return async (req, res) => {
    // Unknown tokens count with the gateway's other failed credentials (a client guessing is blocked).
    await guard.checkNotBlocked(req);
    const file = req.params.file;
    const token = typeof file === 'string' && file.endsWith('.ics') ? file.slice(0, -'.ics'.length) : '';
    const { user } = parseInput(z.object({ user: userIdSchema.optional() }), req.query, 'query');
    const now = Date.now();
    const schedule = /^[A-Za-z0-9_-]{20,64}$/.test(token)
      ? await loadSchedule(
          db,
          { icalToken: token },
          { from: now - ICAL_OVERRIDES_BACK_MS, to: now + ICAL_OVERRIDES_AHEAD_MS }
        )
      : null;
    if (!schedule) {
      await guard.recordFailure(req);
      throw new HttpError(404, 'no calendar here');
    }
    res.type('text/calendar; charset=utf-8').send(scheduleCalendar(schedule, now, user));
  };
}
