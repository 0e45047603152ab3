/**
 * Schedules read from PostgreSQL into the core's shape, and the one question an alert asks of
 * them: whom to page now (whoIsOnCall), for the alert workflow's activity.
 */
import type { Database } from '../db/client';
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

export function overrideOf(row: OverrideRow): Override {
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

function storedSchedule(row: ScheduleRow, overrides: OverrideRow[]): StoredSchedule {
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

/** A schedule by id or iCal token with its overrides (those in `window`), or null. */
export async function loadSchedule(
  db: Database,
  where: { id: string } | { icalToken: string },
  window: OverrideWindow = {}
): Promise<StoredSchedule | null> {
  const row = await db.schedule.findUnique({
    where,
    include: {
      overrides: {
        take: window.none ? 0 : undefined,
        where: {
          ...(window.from === undefined ? {} : { endsAt: { gt: new Date(window.from) } }),
          ...(window.to === undefined ? {} : { startsAt: { lt: new Date(window.to) } }),
        },
      },
    },
  });
  return row ? storedSchedule(row, row.overrides) : null;
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
