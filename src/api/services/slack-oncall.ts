/**
 * The on-call commands of a channel's team: `/escalator oncall` (who is on call now, until when,
 * the next handoffs), `take [duration]` (I am on call now, instead of whoever is: incident relief)
 * and `cover @person <from> <to>`. Times are read and shown in the schedule's zone.
 */
import type { Database } from '../../db/client';
import { loadSchedule, type StoredSchedule } from '../../oncall/store';
import { onCallSummary } from '../../oncall/summary';
import { defaultTakeEnd, LONGEST_TAKE_OVER_MS } from '../../oncall/take-over';
import { parseUntil, parseWhen } from '../../oncall/when';
import { DAY_MS } from '../../oncall/zone-clock';
import { COMMAND } from '../../slack/setup-messages';
import { localWhen, NO_SCHEDULE, onCallMessage, tookOverMessage } from '../../slack/oncall-messages';
import { OverrideChangesNothingError, takeOver } from './schedules';
import type { ChangeVia, ChannelTeam } from './slack-team-setup';

/** How far ahead overrides are read: the summary's horizon, and the longest take or cover after it starts. */
const READ_AHEAD_MS = 93 * DAY_MS;

export type TakeRequest = { kind: 'take'; ms?: number } | { kind: 'cover'; userId: string; from: string; to: string };

export type TakeOutcome = { ok: true; text: string; schedule: StoredSchedule } | { ok: false; text: string };

export const COVER_USAGE = `Name the person and the time: \`${COMMAND} cover @alice 09:00 17:00\`, \`${COMMAND} cover @alice now 4h\` or \`${COMMAND} cover @alice 2026-12-24T09:00 2026-12-26T09:00\`.`;

/** `/escalator oncall`: answered from the database and the on-call core alone. */
export async function onCallAnswer(db: Database, team: ChannelTeam, now: number): Promise<string> {
  const schedule = team.scheduleId
    ? await loadSchedule(db, { id: team.scheduleId }, { from: now, to: now + READ_AHEAD_MS })
    : null;
  if (!schedule) return NO_SCHEDULE;
  return onCallMessage(schedule, onCallSummary(schedule, now), now);
}

/** `take` or `cover`: the overrides written, or a refusal that says why. */
export async function takeOnCall(
  db: Database,
  team: ChannelTeam,
  request: TakeRequest,
  { actor, via, now }: { actor: string; via: ChangeVia; now: number }
): Promise<TakeOutcome> {
  const schedule = team.scheduleId
    ? await loadSchedule(db, { id: team.scheduleId }, { from: now, to: now + READ_AHEAD_MS })
    : null;
  if (!schedule) return { ok: false, text: NO_SCHEDULE };
  const zone = schedule.timeZone;

  let userId = actor;
  let start = now;
  let end: number;
  if (request.kind === 'take') {
    end = request.ms === undefined ? defaultTakeEnd(schedule, now) : now + request.ms;
  } else {
    userId = request.userId;
    const from = parseWhen(request.from, zone, now);
    const to = from === undefined ? undefined : parseUntil(request.to, zone, from);
    if (from === undefined || to === undefined) {
      return { ok: false, text: `Times are read in ${zone}. ${COVER_USAGE}` };
    }
    if (from < now - 60_000) return { ok: false, text: `${localWhen(zone, from, now)} (${zone}) has passed.` };
    if (to <= from) return { ok: false, text: `The end must come after the start. ${COVER_USAGE}` };
    start = Math.max(from, now);
    end = to;
  }
  if (end - start > LONGEST_TAKE_OVER_MS) {
    return { ok: false, text: 'At most 31 days at once from Slack: longer changes belong in the schedule.' };
  }

  try {
    const drafts = await takeOver(db, schedule.id, { userId, start, end, createdBy: actor });
    if (!drafts) return { ok: false, text: NO_SCHEDULE };
    await db.teamAuditEntry.create({
      data: {
        teamId: team.id,
        actor,
        action: request.kind === 'take' ? 'oncall-take' : 'oncall-cover',
        detail: {
          scheduleId: schedule.id,
          userId,
          start: new Date(start).toISOString(),
          end: new Date(end).toISOString(),
          overrides: drafts.length,
          via,
        },
      },
    });
    return { ok: true, text: tookOverMessage(actor, userId, drafts, zone, now), schedule };
  } catch (error) {
    if (error instanceof OverrideChangesNothingError)
      return { ok: false, text: `Nothing to change: ${error.message}.` };
    throw error;
  }
}
