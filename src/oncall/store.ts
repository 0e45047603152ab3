/**
 * Schedules read from PostgreSQL into the core's shape, and the one question an alert asks of
 * them: whom to page now (whoIsOnCall), for the alert workflow's activity.
 */
import { sqlPoolOf, type Database } from '../db/client';
import { decideOnCall, type OnCallDecision } from './decision';
import { rotationsSchema, type Override, type Schedule } from './schedule';

/** A schedule as the core takes it, with what names it. */
export interface StoredSchedule extends Schedule {
  id: string;
  name: string;
  version: number;
  teamId: string | null;
  icalToken: string;
  /** Handoff notices in the teams' channels, and the Slack user group kept set to who is on call. */
  handoffNotices: boolean;
  slackUsergroupId: string | null;
  createdAt: Date;
  updatedAt: Date;
}

/** Which overrides to read: those that end after `from` and start before `to` (all when absent). */
export interface OverrideWindow {
  from?: number;
  to?: number;
  /** Read none (a listing of schedules). */
  none?: boolean;
}

type ScheduleRow = NonNullable<Awaited<ReturnType<Database['schedule']['findUnique']>>>;
type OverrideRow = NonNullable<Awaited<ReturnType<Database['scheduleOverride']['findUnique']>>>;

type OverrideFields = Pick<
  OverrideRow,
  'id' | 'startsAt' | 'endsAt' | 'addUserId' | 'removeUserId' | 'createdBy' | 'createdAt'
>;

export function overrideOf(row: OverrideFields): Override {
  return {
    id: row.id,
    start: row.startsAt.getTime(),
    end: row.endsAt.getTime(),
    addUserId: row.addUserId,
    removeUserId: row.removeUserId,
    createdBy: row.createdBy,
    createdAt: row.createdAt.getTime(),
  };
}

function storedSchedule(row: Omit<ScheduleRow, never>, overrides: OverrideFields[]): StoredSchedule {
  return {
    id: row.id,
    name: row.name,
    version: row.version,
    teamId: row.teamId,
    icalToken: row.icalToken,
    handoffNotices: row.handoffNotices,
    slackUsergroupId: row.slackUsergroupId,
    createdAt: row.createdAt,
    updatedAt: row.updatedAt,
    timeZone: row.timeZone,
    // Validated on the way in; parsed again so that a row written by hand cannot reach the core malformed.
    rotations: rotationsSchema.parse(row.rotations),
    overrides: overrides.map(overrideOf),
  };
}

/**
 * A schedule with the overrides of a window, in one round trip on the pool: who is on call is asked
 * of the API and by every new alert, and the two ORM queries this was cost more than the answer.
 */
const SCHEDULE_WITH_OVERRIDES = (key: 'id' | 'ical_token') => `
  SELECT s.id, s.name, s.time_zone AS "timeZone", s.rotations, s.team_id AS "teamId",
         s.ical_token AS "icalToken", s.version, s.handoff_notices AS "handoffNotices",
         s.slack_usergroup_id AS "slackUsergroupId", s.created_at AS "createdAt", s.updated_at AS "updatedAt",
         COALESCE((
           SELECT json_agg(json_build_object(
                    'id', o.id, 'startsAt', o.starts_at, 'endsAt', o.ends_at, 'addUserId', o.add_user_id,
                    'removeUserId', o.remove_user_id, 'createdBy', o.created_by, 'createdAt', o.created_at))
           FROM schedule_overrides o
           WHERE o.schedule_id = s.id AND NOT $2::boolean
             AND ($3::timestamptz IS NULL OR o.ends_at > $3) AND ($4::timestamptz IS NULL OR o.starts_at < $4)
         ), '[]'::json) AS overrides
  FROM schedules s WHERE s.${key} = $1${key === 'id' ? '::uuid' : ''}`;

interface ScheduleWithOverridesRow extends Omit<ScheduleRow, never> {
  overrides: Array<{
    id: string;
    startsAt: string;
    endsAt: string;
    addUserId: string | null;
    removeUserId: string | null;
    createdBy: string | null;
    createdAt: string;
  }>;
}

/** A schedule by id or iCal token with its overrides (those in `window`), or null. */
export async function loadSchedule(
  db: Database,
  where: { id: string } | { icalToken: string },
  window: OverrideWindow = {}
): Promise<StoredSchedule | null> {
  const [key, value] = 'id' in where ? (['id', where.id] as const) : (['ical_token', where.icalToken] as const);
  const { rows } = await sqlPoolOf(db).query<ScheduleWithOverridesRow>(SCHEDULE_WITH_OVERRIDES(key), [
    value,
    window.none ?? false,
    window.from === undefined ? null : new Date(window.from),
    window.to === undefined ? null : new Date(window.to),
  ]);
  const row = rows[0];
  if (!row) return null;
  const overrides = row.overrides.map((override) => ({
    ...override,
    startsAt: new Date(override.startsAt),
    endsAt: new Date(override.endsAt),
    createdAt: new Date(override.createdAt),
  }));
  return storedSchedule(row, overrides);
}

/** How far ahead of an instant overrides are read to tell until when an answer holds. */
const UNTIL_HORIZON_MS = 731 * 86_400_000;

export interface TeamOnCall extends OnCallDecision {
  scheduleId: string;
  /** The schedule version the answer comes from. */
  version: number;
}

/**
 * Whom a new alert of `teamId` raised at `at` goes to, with the reason its timeline shows and the
 * next person to escalate to; null when the team has no schedule (it then pages as it always did).
 */
export async function whoIsOnCall(db: Database, teamId: string, at: Date): Promise<TeamOnCall | null> {
  const team = await db.team.findUnique({ where: { id: teamId }, select: { scheduleId: true } });
  if (!team?.scheduleId) return null;
  const instant = at.getTime();
  const schedule = await loadSchedule(db, { id: team.scheduleId }, { from: instant, to: instant + UNTIL_HORIZON_MS });
  if (!schedule) return null;
  return { ...decideOnCall(schedule, instant), scheduleId: schedule.id, version: schedule.version };
}

/** Schedules kept by one process at most; the oldest read is let go first. */
const SCHEDULES_KEPT = 1_000;

export interface ScheduleCache {
  /**
   * The schedule with every override that ends after `from`, as `loadSchedule` reads it, or null.
   * Kept between calls and checked against the schedule's version each time (one small query):
   * every change, overrides included, raises the version, so an answer is never stale, whichever
   * process made the change. The same object each time also keeps its compiled form.
   */
  load(id: string, from: number): Promise<StoredSchedule | null>;
}

export function createScheduleCache(db: Database): ScheduleCache {
  const kept = new Map<string, { version: number; from: number; schedule: StoredSchedule }>();
  return {
    async load(id, from) {
      const entry = kept.get(id);
      if (entry && from >= entry.from) {
        const { rows } = await sqlPoolOf(db).query<{ version: number }>(
          'SELECT version FROM schedules WHERE id = $1::uuid',
          [id]
        );
        if (rows[0]?.version === entry.version) return entry.schedule;
      }
      const schedule = await loadSchedule(db, { id }, { from });
      kept.delete(id);
      if (!schedule) return null;
      if (kept.size >= SCHEDULES_KEPT) kept.delete(kept.keys().next().value as string);
      kept.set(id, { version: schedule.version, from, schedule });
      return schedule;
    },
  };
}
