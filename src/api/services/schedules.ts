/** On-call schedules: create, read, replace and delete them, and their overrides. Every change bumps the version. */
import { randomBytes } from 'node:crypto';
import type { Database, Prisma } from '../../db/client';
import { overrideChangesNothing } from '../../oncall/on-call';
import { takeOverOverrides, type OverrideDraft } from '../../oncall/take-over';
import { rotationsSchema, type Rotation, type Schedule } from '../../oncall/schedule';
import { loadSchedule, overrideOf, type StoredSchedule } from '../../oncall/store';

export interface ScheduleInput {
  name: string;
  timeZone: string;
  rotations: Rotation[];
  teamId?: string;
  /** Post a notice in the teams' channels at each change of who is on call (default off). */
  handoffNotices?: boolean;
  /** Keep this Slack user group (`S…`) set to whoever is on call; null: none. */
  slackUsergroupId?: string | null;
}

export interface OverrideDetails {
  id: string;
  start: string;
  end: string;
  addUserId: string | null;
  removeUserId: string | null;
  createdBy: string | null;
  createdAt: string;
}

export interface ScheduleDetails {
  id: string;
  name: string;
  timeZone: string;
  rotations: Rotation[];
  teamId: string | null;
  handoffNotices: boolean;
  slackUsergroupId: string | null;
  version: number;
  icalUrl: string;
  createdAt: string;
  updatedAt: string;
  overrides: OverrideDetails[];
}

/** A schedule names a team that does not exist (400: the request is wrong). */
export class UnknownTeamError extends Error {
  override name = 'UnknownTeamError';
}

/** An override that would not change who is on call at any instant of its range. */
export class OverrideChangesNothingError extends Error {
  override name = 'OverrideChangesNothingError';
}

/** The feed's URL under PUBLIC_URL. */
export function icalUrl(publicUrl: string, token: string): string {
  return `${publicUrl}/ical/${token}.ics`;
}

function details(publicUrl: string, schedule: StoredSchedule): ScheduleDetails {
  return {
    id: schedule.id,
    name: schedule.name,
    timeZone: schedule.timeZone,
    rotations: schedule.rotations,
    teamId: schedule.teamId,
    handoffNotices: schedule.handoffNotices,
    slackUsergroupId: schedule.slackUsergroupId,
    version: schedule.version,
    icalUrl: icalUrl(publicUrl, schedule.icalToken),
    createdAt: schedule.createdAt.toISOString(),
    updatedAt: schedule.updatedAt.toISOString(),
    overrides: [...schedule.overrides]
      .sort((a, b) => a.start - b.start)
      .map((override) => ({
        id: override.id,
        start: new Date(override.start).toISOString(),
        end: new Date(override.end).toISOString(),
        addUserId: override.addUserId ?? null,
        removeUserId: override.removeUserId ?? null,
        createdBy: override.createdBy ?? null,
        createdAt: new Date(override.createdAt).toISOString(),
      })),
  };
}

/** Creates a schedule; with `teamId`, that team's alerts go to it from now on. */
export async function createSchedule(db: Database, publicUrl: string, input: ScheduleInput): Promise<ScheduleDetails> {
  const id = await db.$transaction(async (tx) => {
    if (
      input.teamId &&
      !(await tx.team.findUnique({ where: { id: input.teamId, archivedAt: null }, select: { id: true } }))
    ) {
      throw new UnknownTeamError('teamId: no team with this id');
    }
    const created = await tx.schedule.create({
      data: {
        name: input.name,
        timeZone: input.timeZone,
        rotations: input.rotations,
        teamId: input.teamId,
        handoffNotices: input.handoffNotices ?? false,
        slackUsergroupId: input.slackUsergroupId ?? null,
        icalToken: randomBytes(24).toString('base64url'),
      },
      select: { id: true },
    });
    if (input.teamId) await tx.team.update({ where: { id: input.teamId }, data: { scheduleId: created.id } });
    return created.id;
  });
  return (await getSchedule(db, publicUrl, id))!;
}

export async function getSchedule(db: Database, publicUrl: string, id: string): Promise<ScheduleDetails | null> {
  const schedule = await loadSchedule(db, { id });
  return schedule ? details(publicUrl, schedule) : null;
}

/** Every schedule, by name, without its overrides. */
export async function listSchedules(
  db: Database,
  publicUrl: string
): Promise<Array<Omit<ScheduleDetails, 'overrides'>>> {
  const ids = await db.schedule.findMany({ select: { id: true }, orderBy: { name: 'asc' } });
  const schedules = await Promise.all(ids.map(({ id }) => loadSchedule(db, { id }, { none: true })));
  return schedules
    .filter((schedule) => schedule !== null)
    .map((schedule) => {
      const shown: Partial<ScheduleDetails> = details(publicUrl, schedule);
      delete shown.overrides;
      return shown as Omit<ScheduleDetails, 'overrides'>;
    });
}

/** Replaces name, zone, rotations, team (when given) and the handoff options given; null when there is no such schedule. */
export async function replaceSchedule(
  db: Database,
  publicUrl: string,
  id: string,
  input: ScheduleInput
): Promise<ScheduleDetails | null> {
  const found = await db.$transaction(async (tx) => {
    if (!(await tx.schedule.findUnique({ where: { id }, select: { id: true } }))) return false;
    if (
      input.teamId &&
      !(await tx.team.findUnique({ where: { id: input.teamId, archivedAt: null }, select: { id: true } }))
    ) {
      throw new UnknownTeamError('teamId: no team with this id');
    }
    await tx.schedule.update({
      where: { id },
      data: {
        name: input.name,
        timeZone: input.timeZone,
        rotations: input.rotations,
        teamId: input.teamId ?? null,
        // Left out: kept (the Slack form replaces the rotation only, and must not turn them off).
        handoffNotices: input.handoffNotices,
        slackUsergroupId: input.slackUsergroupId,
        version: { increment: 1 },
      },
    });
    if (input.teamId) await tx.team.update({ where: { id: input.teamId }, data: { scheduleId: id } });
    return true;
  });
  return found ? getSchedule(db, publicUrl, id) : null;
}

/** Whether the schedule asks for handoff notices or a user group (its watcher should run). */
export function wantsHandoffWatcher(schedule: Pick<ScheduleDetails, 'handoffNotices' | 'slackUsergroupId'>): boolean {
  return schedule.handoffNotices || schedule.slackUsergroupId !== null;
}

/** The schedule's handoff options, or null when there is no such schedule. */
export async function handoffOptions(
  db: Database,
  id: string
): Promise<Pick<ScheduleDetails, 'handoffNotices' | 'slackUsergroupId'> | null> {
  return db.schedule.findUnique({ where: { id }, select: { handoffNotices: true, slackUsergroupId: true } });
}

/** Deletes a schedule and its overrides; teams that used it go back to their engineers' order. */
export async function deleteSchedule(db: Database, id: string): Promise<boolean> {
  const { count } = await db.schedule.deleteMany({ where: { id } });
  return count > 0;
}

/**
 * Locks the schedule's row (two overrides written at once are each checked against the other) and
 * reads it as the core takes it, with the overrides of [start, end); null when there is none.
 */
async function lockScheduleIn(
  tx: Prisma.TransactionClient,
  scheduleId: string,
  { start, end }: { start: number; end: number }
): Promise<Schedule | null> {
  const locked = await tx.$queryRaw<
    Array<{ id: string }>
  >`SELECT id FROM schedules WHERE id = ${scheduleId}::uuid FOR UPDATE`;
  if (locked.length === 0) return null;
  const row = await tx.schedule.findUniqueOrThrow({
    where: { id: scheduleId },
    include: { overrides: { where: { endsAt: { gt: new Date(start) }, startsAt: { lt: new Date(end) } } } },
  });
  return {
    timeZone: row.timeZone,
    rotations: rotationsSchema.parse(row.rotations),
    overrides: row.overrides.map(overrideOf),
  };
}

export interface NewOverride {
  start: number;
  end: number;
  addUserId?: string;
  removeUserId?: string;
  createdBy?: string;
}

/**
 * Adds an override unless it would change nothing (OverrideChangesNothingError with the reason).
 * The check and the write happen under a lock of the schedule's row, so that two overrides added at
 * once are each checked against the other. Null when there is no such schedule.
 */
export async function addOverride(
  db: Database,
  scheduleId: string,
  input: NewOverride
): Promise<{ id: string } | null> {
  return db.$transaction(async (tx) => {
    const schedule = await lockScheduleIn(tx, scheduleId, input);
    if (!schedule) return null;
    const reason = overrideChangesNothing(schedule, {
      id: 'new',
      start: input.start,
      end: input.end,
      addUserId: input.addUserId,
      removeUserId: input.removeUserId,
      createdAt: Number.MAX_SAFE_INTEGER,
    });
    if (reason) throw new OverrideChangesNothingError(reason);
    const created = await tx.scheduleOverride.create({
      data: {
        scheduleId,
        startsAt: new Date(input.start),
        endsAt: new Date(input.end),
        addUserId: input.addUserId,
        removeUserId: input.removeUserId,
        createdBy: input.createdBy,
      },
      select: { id: true },
    });
    await tx.schedule.update({ where: { id: scheduleId }, data: { version: { increment: 1 } } });
    return created;
  });
}

/**
 * Puts `userId` first on call over [start, end) (`/escalator take` and `cover`): one override per
 * stretch held by someone else, written under the schedule's lock with one version bump. Throws
 * OverrideChangesNothingError when they already are first on call throughout; null when there is
 * no such schedule.
 */
export async function takeOver(
  db: Database,
  scheduleId: string,
  input: { userId: string; start: number; end: number; createdBy: string }
): Promise<OverrideDraft[] | null> {
  return db.$transaction(async (tx) => {
    const schedule = await lockScheduleIn(tx, scheduleId, input);
    if (!schedule) return null;
    const drafts = takeOverOverrides(schedule, input.userId, input.start, input.end);
    if (drafts.length === 0) {
      throw new OverrideChangesNothingError(`${input.userId} is already first on call for the whole time`);
    }
    await tx.scheduleOverride.createMany({
      data: drafts.map((draft) => ({
        scheduleId,
        startsAt: new Date(draft.start),
        endsAt: new Date(draft.end),
        addUserId: draft.addUserId,
        removeUserId: draft.removeUserId,
        createdBy: input.createdBy,
      })),
    });
    await tx.schedule.update({ where: { id: scheduleId }, data: { version: { increment: 1 } } });
    return drafts;
  });
}

/** Deletes an override of the schedule; false when there is no such override there. */
export async function deleteOverride(db: Database, scheduleId: string, overrideId: string): Promise<boolean> {
  return db.$transaction(async (tx) => {
    const { count } = await tx.scheduleOverride.deleteMany({ where: { id: overrideId, scheduleId } });
    if (count === 0) return false;
    await tx.schedule.update({ where: { id: scheduleId }, data: { version: { increment: 1 } } });
    return true;
  });
}
