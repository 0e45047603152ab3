/**
 * Activities of a schedule's handoff watcher (workflows/schedule-handoffs-workflow.ts): who is on
 * call now and until when (the pure core, over the schedule as PostgreSQL holds it), the notice in
 * each team's channel, and the Slack user group. Each is safe to run twice.
 */
import { onCallAt } from '../oncall/on-call';
import { loadSchedule } from '../oncall/store';
import type { SlackApi } from '../slack/client';
import { renderHandoffNotice } from '../slack/handoff-message';
import { callSlack, slackOfTeam, type ActivityDeps } from './deps';

/** A channel that gets the notices: a team that uses the schedule, and its workspace installation. */
export interface HandoffChannel {
  slackChannelId: string;
  installationId?: string;
}

/** What the watcher needs to know at an instant; `watched: false` when it has nothing left to do. */
export type HandoffPlan =
  | { watched: false }
  | {
      watched: true;
      scheduleName: string;
      handoffNotices: boolean;
      usergroupId: string | null;
      /** Who is on call at the instant asked, and when that changes next (epoch ms, or null). */
      users: string[];
      until: number | null;
      /** The channels of the teams that use the schedule (paused teams left out). */
      channels: HandoffChannel[];
      /** Whose bot sets the user group: that of the first team that uses the schedule, if any. */
      usergroupBot?: HandoffChannel;
    };

export interface HandoffNotice {
  scheduleId: string;
  scheduleName: string;
  /** The handoff this notice is about (epoch ms): with the channel and the people, what makes it one. */
  changeAt: number;
  previous: string[];
  users: string[];
  until: number | null;
  channel: HandoffChannel;
}

export function createHandoffActivities({ slack, db, log, slackForTeam, channelSpacer }: ActivityDeps) {
  const slackOf = (channel: HandoffChannel): Promise<SlackApi> => slackOfTeam({ slack, slackForTeam }, channel);

  return {
    /**
     * Who is on call for the schedule at `at` and until when (onCallAt, the same answer as the
     * API's), with the schedule's options and the channels of the teams that use it. The instant
     * comes from the workflow, so that a replay or a late wake asks about the same moment.
     */
    async readOnCall({ scheduleId, at }: { scheduleId: string; at: number }): Promise<HandoffPlan> {
      const schedule = await loadSchedule(db, { id: scheduleId }, { from: at });
      if (!schedule) return { watched: false };
      const options = await db.schedule.findUnique({
        where: { id: scheduleId },
        select: { handoffNotices: true, slackUsergroupId: true },
      });
      if (!options || (!options.handoffNotices && !options.slackUsergroupId)) return { watched: false };
      const teams = await db.team.findMany({
        where: { scheduleId, pausedAt: null },
        select: { slackChannelId: true, installationId: true },
        orderBy: { createdAt: 'asc' },
      });
      const channels = teams.map((team) => ({
        slackChannelId: team.slackChannelId,
        ...(team.installationId ? { installationId: team.installationId } : {}),
      }));
      const { users, until } = onCallAt(schedule, at);
      return {
        watched: true,
        scheduleName: schedule.name,
        handoffNotices: options.handoffNotices,
        usergroupId: options.slackUsergroupId,
        users,
        until,
        channels,
        ...(channels[0] ? { usergroupBot: channels[0] } : {}),
      };
    },

    /**
     * Posts the notice of one handoff into one channel, once: the post is remembered in
     * `slack_messages` under the handoff (schedule, instant, people, channel), so a retried
     * attempt, or the same handoff seen again by a restarted watcher, finds it and posts nothing.
     */
    async postHandoffNotice(notice: HandoffNotice): Promise<void> {
      const { slackChannelId } = notice.channel;
      const key = `handoff/${notice.scheduleId}/${notice.changeAt}/${notice.users.join(',')}/${slackChannelId}`;
      if (await db.slackMessage.findUnique({ where: { key } })) return;
      const bot = await slackOf(notice.channel);
      await channelSpacer?.take(slackChannelId);
      const posted = await callSlack(log, 'chat.postMessage', () =>
        bot.postMessage({
          channel: slackChannelId,
          ...renderHandoffNotice({
            scheduleName: notice.scheduleName,
            previous: notice.previous,
            users: notice.users,
            until: notice.until === null ? null : new Date(notice.until).toISOString(),
          }),
        })
      );
      await db.slackMessage.createMany({
        data: [{ key, channel: posted.channel, ts: posted.ts }],
        skipDuplicates: true,
      });
    },

    /**
     * Sets the user group to exactly the people on call (idempotent by nature). Slack keeps a group
     * non-empty: while nobody is on call it keeps its last members, and this says `kept`.
     */
    async setOnCallUsergroup({
      usergroupId,
      users,
      bot: team,
    }: {
      usergroupId: string;
      users: string[];
      /** The team whose bot speaks (OAuth mode: its workspace's); unset: the default bot. */
      bot?: HandoffChannel;
    }): Promise<'set' | 'kept'> {
      if (users.length === 0) {
        log.info({ usergroupId }, 'nobody is on call: the user group keeps its members');
        return 'kept';
      }
      const bot = team ? await slackOf(team) : slack;
      await callSlack(log, 'usergroups.users.update', () => bot.updateUsergroupUsers({ usergroupId, users }));
      return 'set';
    },
  };
}
