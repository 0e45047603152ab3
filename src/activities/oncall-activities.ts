/**
 * Whom a new alert goes to first: whoever is on call in the team's schedule (src/oncall/, one pure
 * function of the schedule's version and the instant), and, for a team that asked for it
 * (`skipAway`), the first of them reachable in Slack. The answer is recorded in the alert's history.
 */
import { describeSkipped, pickAvailable, type Absence, type SkippedPerson } from '../oncall/availability';
import type { OnCallDecision } from '../oncall/decision';
import { whoIsOnCall } from '../oncall/store';
import { createPresenceCache, type PresenceCache } from '../slack/presence-cache';
import { slackOfTeam, type ActivityDeps } from './deps';

/** Who gets a new alert, why, and whom its first escalation calls. */
export interface OnCallAssignment extends OnCallDecision {
  /** The schedule (and its version) the answer comes from; unset for a team without one. */
  scheduleId?: string;
  version?: number;
  /** People passed over because they were away or in Do Not Disturb (skipAway). */
  skipped?: SkippedPerson[];
}

/** Null: the team pages as it always did (its engineers in order). */
export type OnCallAnswer = OnCallAssignment | null;

export function createOnCallActivities({
  db,
  log,
  slack,
  slackForTeam,
  presence = createPresenceCache({ log }),
}: Pick<ActivityDeps, 'db' | 'log' | 'slack' | 'slackForTeam'> & { presence?: PresenceCache }) {
  return {
    /**
     * Who is on call for the team at `at` (epoch ms), with the reason the timeline shows and the
     * next person; with `skipAway`, people away or in Do Not Disturb are passed over.
     */
    async whoIsOnCall({ teamId, at }: { teamId: string; at: number }): Promise<OnCallAnswer> {
      const team = await db.team.findUnique({
        where: { id: teamId },
        select: {
          skipAway: true,
          slackChannelId: true,
          installationId: true,
          engineers: { orderBy: { position: 'asc' }, select: { slackUserId: true } },
        },
      });
      if (!team) return null;
      const onCall = await whoIsOnCall(db, teamId, new Date(at));
      // Nobody on call (outside the rotations' windows): the team's first engineer, as without a schedule.
      if (!team.skipAway || (onCall && onCall.users.length === 0)) return onCall;

      // On call now, then the one whose shift follows; without a schedule, the engineers in order.
      const candidates = onCall
        ? [...onCall.users, ...(onCall.next ? [onCall.next] : [])]
        : team.engineers.map((engineer) => engineer.slackUserId);
      if (candidates.length === 0) return onCall;
      const teamSlack = await slackOfTeam(
        { slack, slackForTeam },
        { slackChannelId: team.slackChannelId, installationId: team.installationId ?? undefined }
      );
      const workspace = team.installationId ?? 'default';
      const absences = new Map<string, Absence | null>(
        await Promise.all(
          [...new Set(candidates)].map(
            async (userId) => [userId, await presence.absenceOf(teamSlack, workspace, userId)] as const
          )
        )
      );
      const pick = pickAvailable(candidates, absences);
      const skippedText = describeSkipped(pick);
      const base = onCall?.reason ?? 'the first engineer of the team reachable in Slack';
      return {
        ...(onCall ?? { users: [], until: null }),
        userId: pick.userId,
        next: pick.next ?? onCall?.next ?? null,
        reason: skippedText ? `${base}; ${skippedText}` : base,
        skipped: pick.skipped,
      };
    },
  };
}
