/**
 * Activities of channel pacing (docs/storm.md): an alert asking for its post's turn or a thread
 * call's, the pacer's rounds over the channel's queue in PostgreSQL (channel-queue.ts), and the
 * storm digest, read from the database each time it is written. Each is safe to run twice.
 */
import { ApplicationFailure } from '@temporalio/common';
import { Context } from '@temporalio/activity';
import type { SlackApi, SlackMessageRef } from '../slack/client';
import { renderChannelDigest } from '../slack/digest-message';
import type { TeamSnapshot } from '../domain/alert';
import {
  CHANNEL_WAKE_SIGNAL,
  CHANNEL_WORKFLOW_TYPE,
  channelWorkflowId,
  type ChannelPacerStart,
  type ChannelTurnRequest,
  type ChannelTurnWithdrawal,
} from '../domain/channel-pacing';
import type { Client } from '@temporalio/client';
import type { Database } from '../db/client';
import type { Logger } from '../logger';
import { DEFAULT_CHANNEL_PACE, type ChannelPace } from '../domain/channel-pace';
import { callSlack, slackOfTeam, type ActivityDeps } from './deps';
import { createChannelQueue, type ChannelRound, type ChannelRoundAsk } from './channel-queue';
import { createChannelSlots, MAX_SLOT_WAIT_MS, waitForSlot } from './slot';

/** Error type of a turn request made by a worker built without a Temporal client (a wiring mistake). */
export const CHANNEL_PACER_UNAVAILABLE = 'ChannelPacerUnavailable';

/**
 * A line that may be left out goes only if the channel has room for it now: a slot even a second
 * ahead would push back the posts a storm's pacer has granted ahead, one second per line.
 */
const SPARE_SLOT_HORIZON_MS = 0;

/** The channel whose digest is written, and the workspace installation whose bot writes it (OAuth mode). */
export type DigestTeam = Pick<TeamSnapshot, 'slackChannelId' | 'installationId'>;

/** The storm a digest is written for: its channel and when it began (epoch ms). */
export interface DigestStorm {
  team: DigestTeam;
  since: number;
  /** The storm is over (ISO time): the digest says so, for the last time. */
  endedAt?: string;
}

/** What an alert's turn request answers: the turn at once, its place in the queue, or when to ask again. */
export interface ChannelTurnAnswer {
  /** Posts queued before it; its turn comes by signal. */
  ahead?: number;
  turn?: { notBefore: number };
  /** A call whose slot lies further ahead than a Slack activity waits (Slack's Retry-After): ask again then. */
  askAgainAt?: number;
  /** The alert had ended before it asked, and a storm is on: the digest lists it, it is not posted. */
  declined?: boolean;
}

export function createChannelActivities({
  slack,
  db,
  log,
  metrics,
  temporal,
  slackForTeam,
  channelSpacer,
  channelPace,
}: ActivityDeps) {
  /** The digest speaks with the same bot as the alerts of the channel (their team's installation). */
  const slackOf = (team: DigestTeam): Promise<SlackApi> => slackOfTeam({ slack, slackForTeam }, team);

  const pace = { ...DEFAULT_CHANNEL_PACE, ...channelPace };
  const { takeChannelSlot, awaitUpdateTurn } = createChannelSlots(db);
  const queue = createChannelQueue(db);

  /** Wakes the channel's pacer (starting it if it does not run): one signal however many posts queue. */
  async function wakePacer(channelId: string, taskQueue: string): Promise<void> {
    if (!temporal) {
      throw ApplicationFailure.nonRetryable(
        'The worker was built without a Temporal client',
        CHANNEL_PACER_UNAVAILABLE
      );
    }
    await wakeChannelPacer(temporal, { channelId, taskQueue, pace: channelPace });
  }

  return {
    /**
     * Asks for a turn to post into a channel (a local activity of the alert workflow). A thread
     * call takes its slot from the channel's bucket at once: calls never wait behind posts. A post
     * takes one too while the channel is quiet; otherwise it is queued in PostgreSQL, and its turn
     * comes by signal from the channel's pacer, which this wakes when nobody has yet.
     */
    async requestChannelTurn(request: ChannelTurnRequest & { channelId: string }): Promise<ChannelTurnAnswer> {
      const now = Date.now();
      const pauseUntil = request.retryAfterMs === undefined ? undefined : now + request.retryAfterMs;
      if (request.kind === 'call') {
        const call = await takeChannelSlot({
          channelId: request.channelId,
          kind: 'call',
          horizonMs: MAX_SLOT_WAIT_MS,
          asker: 'direct',
          pauseUntil,
          notBefore: request.notBefore,
          pace,
        });
        return call.taken ? { turn: { notBefore: call.slot } } : { askAgainAt: call.slot - MAX_SLOT_WAIT_MS / 2 };
      }
      const answer = await queue.requestPost({
        channelId: request.channelId,
        requestId: request.requestId,
        workflowId: request.workflowId,
        alertId: request.alertId,
        severity: request.severity,
        title: request.title,
        horizonMs: pace.grantAheadMs,
        pauseUntil,
        pace,
      });
      if (answer.slot !== undefined) return { turn: { notBefore: answer.slot } };
      if (answer.wake) await wakePacer(request.channelId, Context.current().info.taskQueue);
      // It had ended before it asked: in a storm it is listed in the digest instead of posted.
      if (
        request.ended &&
        (await queue.withdrawPost(request.channelId, request.requestId, request.ended)) === 'withdrawn'
      )
        return { declined: true };
      return { ahead: answer.ahead };
    },

    /**
     * A post's slot only if the channel has one free now (SPARE_SLOT_HORIZON_MS), for a line that
     * may be left out when the channel is busy (a close or resolve in its alert's thread). It takes
     * a post's share of the bucket, never the turns kept back for calls, and never queues.
     */
    async takeSpareChannelSlot({ channelId }: { channelId: string }): Promise<number | undefined> {
      const spare = await takeChannelSlot({
        channelId,
        kind: 'post',
        horizonMs: SPARE_SLOT_HORIZON_MS,
        asker: 'direct',
        pace,
      });
      return spare.taken ? spare.slot : undefined;
    },

    /**
     * A post's alert ended while it waited (`state`), or a call is not wanted any more (no state:
     * a call never waits in the queue, so there is nothing to take back). `withdrawn`: listed in
     * the storm digest, never posted; `waits`: posted at its turn in its final state.
     */
    async withdrawChannelTurn({
      channelId,
      requestId,
      state,
    }: ChannelTurnWithdrawal & { channelId: string }): Promise<{ declined: boolean }> {
      if (!state) return { declined: false };
      return { declined: (await queue.withdrawPost(channelId, requestId, state)) === 'withdrawn' };
    },

    /**
     * One round of a channel's pacer (a local activity): grants the best waiting posts the bucket
     * allows now, and reports the queue's length to metrics.
     */
    async grantChannelPosts(ask: ChannelRoundAsk): Promise<ChannelRound> {
      const round = await queue.grantPosts(ask);
      metrics?.channelQueue.set(ask.channelId, round.waiting);
      return round;
    },

    /** The pacer lets the channel go once nothing waits; false while posts wait. */
    async releaseChannelPosts({ channelId }: { channelId: string }): Promise<boolean> {
      const released = await queue.releasePosts(channelId);
      if (released) metrics?.channelQueue.set(channelId, 0);
      return released;
    },

    /** A slot of the channel's bucket for the digest's own post (a local activity of the pacer). */
    takeChannelSlot,

    /**
     * Posts the storm digest into the channel at its slot (once per activity, however often it is
     * retried), as the database shows the storm now.
     */
    async postChannelDigest({
      team,
      since,
      notBefore,
    }: DigestStorm & { notBefore?: number }): Promise<SlackMessageRef> {
      const { workflowExecution, activityId } = Context.current().info;
      const key = `${workflowExecution?.workflowId}/${workflowExecution?.runId}/${activityId}`;
      const earlier = await db.slackMessage.findUnique({ where: { key } });
      if (earlier) return { channel: earlier.channel, ts: earlier.ts };
      const view = await queue.stormView(team.slackChannelId, since);
      const bot = await slackOf(team);
      await waitForSlot(notBefore);
      await channelSpacer?.take(team.slackChannelId);
      const posted = await callSlack(log, 'chat.postMessage', () =>
        bot.postMessage({ channel: team.slackChannelId, ...renderChannelDigest(view) })
      );
      await db.slackMessage.createMany({
        data: [{ key, channel: posted.channel, ts: posted.ts }],
        skipDuplicates: true,
      });
      return posted;
    },

    /**
     * Rewrites the storm digest in place (chat.update, idempotent by nature) as the database shows
     * the storm now; the last time, once the storm is over, it says so and the storm ends.
     */
    async updateChannelDigest({
      message,
      team,
      since,
      endedAt,
    }: DigestStorm & { message: SlackMessageRef }): Promise<void> {
      const view = await queue.stormView(team.slackChannelId, since, endedAt);
      const bot = await slackOf(team);
      await awaitUpdateTurn(team.installationId);
      await callSlack(log, 'chat.update', () => bot.updateMessage({ ...message, ...renderChannelDigest(view) }));
      if (endedAt) await queue.endStorm(team.slackChannelId);
    },

    /** The storm ended without a digest to close (it never got posted): the channel is out of it. */
    async endChannelStorm({ channelId }: { channelId: string }): Promise<void> {
      await queue.endStorm(channelId);
    },
  };
}

/** Wakes a channel's pacer by signal-with-start: the running one, or a new one. */
export async function wakeChannelPacer(
  temporal: Client,
  { channelId, taskQueue, pace }: { channelId: string; taskQueue: string; pace?: Partial<ChannelPace> }
): Promise<void> {
  await temporal.workflow.signalWithStart(CHANNEL_WORKFLOW_TYPE, {
    workflowId: channelWorkflowId(channelId),
    taskQueue,
    args: [{ channelId, pace } satisfies ChannelPacerStart],
    signal: CHANNEL_WAKE_SIGNAL,
    signalArgs: [],
  });
}

/**
 * Wakes the pacer of every channel whose posts wait while no pacer has been heard from for a while
 * (one terminated by hand, or lost with a Temporal store): run as a worker starts, so that no
 * queued post waits for a next alert to wake its channel.
 */
export async function wakeLostPacers(deps: {
  db: Database;
  temporal: Client;
  taskQueue: string;
  pace?: Partial<ChannelPace>;
  log: Logger;
}): Promise<void> {
  const channels = await createChannelQueue(deps.db).channelsWithoutPacer();
  for (const channelId of channels) {
    await wakeChannelPacer(deps.temporal, { channelId, taskQueue: deps.taskQueue, pace: deps.pace });
  }
  if (channels.length > 0) deps.log.warn({ channels }, 'woke the pacers of channels whose posts waited without one');
}
