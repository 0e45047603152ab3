/**
 * Activities of the channel pacer (workflows/channel-workflow.ts): asking it for a turn, writing the
 * storm digest, and reporting its queue to metrics. Each is safe to run twice.
 */
import { WorkflowNotFoundError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { Context } from '@temporalio/activity';
import type { SlackApi, SlackMessageRef } from '../slack/client';
import { renderChannelDigest, type ChannelDigestView } from '../slack/digest-message';
import { toSlackFailure } from '../slack/errors';
import type { TeamSnapshot } from '../domain/alert';
import {
  CHANNEL_WORKFLOW_TYPE,
  channelTurnRequestSignal,
  channelTurnWithdrawalSignal,
  channelWorkflowId,
  type ChannelTurnRequest,
  type ChannelTurnWithdrawal,
} from '../workflows/definitions';
import type { ChannelWorkflowInput } from '../workflows/channel-workflow';
import { DEFAULT_CHANNEL_PACE } from '../slack/channel-pace';
import type { ActivityDeps } from './index';
import { createChannelSlots, MAX_SLOT_WAIT_MS, waitForSlot } from './slot';

/** Error type of a turn request made by a worker built without a Temporal client (a wiring mistake). */
export const CHANNEL_PACER_UNAVAILABLE = 'ChannelPacerUnavailable';

/** The channel whose digest is written, and the workspace installation whose bot writes it (OAuth mode). */
export type DigestTeam = Pick<TeamSnapshot, 'slackChannelId' | 'installationId'>;

export function createChannelActivities({
  slack,
  db,
  log,
  metrics,
  temporal,
  slackForTeam,
  channelSpacer,
}: ActivityDeps) {
  /** The digest speaks with the same bot as the alerts of the channel (their team's installation). */
  const slackOf = (team: DigestTeam): Promise<SlackApi> => (slackForTeam ? slackForTeam(team) : Promise.resolve(slack));

  async function callSlack<T>(method: string, call: () => Promise<T>): Promise<T> {
    try {
      return await call();
    } catch (error) {
      const failure = toSlackFailure(error, method);
      log.warn({ method, activity: Context.current().info.activityType, failure: failure.type }, failure.message);
      throw failure;
    }
  }

  const { takeChannelSlot, releaseChannelPosts, awaitUpdateTurn } = createChannelSlots(db);

  return {
    /**
     * Asks for a turn to post into a channel. A thread call, and a post while the channel's pacer
     * holds no posts, take their slot from the channel's shared bucket in PostgreSQL at once: the
     * answer is the turn (`turn.notBefore`), with no round trip through the pacer workflow. Otherwise
     * the turn is queued with the channel's pacer, starting the pacer if it is not running (a workflow
     * cannot signal-with-start another, so this is an activity). The pacer answers by signal: the
     * turn, and, to a post that has to wait, its place in the queue. (It used to be asked by query
     * here: in a storm the busy pacer's query buffer overflowed, and every request held an activity
     * slot for seconds, so that later requests, critical ones too, queued behind them.)
     * Then it returns `{}`: the shape older alert workflows expect.
     */
    async requestChannelTurn(
      request: ChannelTurnRequest & { channelId: string }
    ): Promise<{ ahead?: number; turn?: { notBefore: number } }> {
      const now = Date.now();
      const direct = await takeChannelSlot({
        channelId: request.channelId,
        kind: request.kind,
        // A call takes the next call slot whenever it comes (it never waits behind posts); a post
        // only one as near as the pacer would grant it.
        horizonMs: request.kind === 'call' ? MAX_SLOT_WAIT_MS : DEFAULT_CHANNEL_PACE.grantAheadMs,
        asker: 'alert',
        pauseUntil: request.retryAfterMs === undefined ? undefined : now + request.retryAfterMs,
        notBefore: request.notBefore,
      });
      if (direct.taken) return { turn: { notBefore: direct.slot } };
      if (!temporal) {
        throw ApplicationFailure.nonRetryable(
          'The worker was built without a Temporal client',
          CHANNEL_PACER_UNAVAILABLE
        );
      }
      const { channelId, ...turn } = request;
      const workflowId = channelWorkflowId(channelId);
      await temporal.workflow.signalWithStart(CHANNEL_WORKFLOW_TYPE, {
        workflowId,
        taskQueue: Context.current().info.taskQueue,
        args: [{ channelId } satisfies ChannelWorkflowInput],
        signal: channelTurnRequestSignal,
        signalArgs: [turn],
      });
      return {};
    },

    takeChannelSlot,
    releaseChannelPosts,

    /**
     * Takes a turn back out of the pacer's queue: the alert ended (or someone answered) before it.
     * A pacer that has ended since had nothing queued any more, so there is nothing to take back.
     */
    async withdrawChannelTurn({
      channelId,
      ...withdrawal
    }: ChannelTurnWithdrawal & { channelId: string }): Promise<void> {
      if (!temporal) {
        throw ApplicationFailure.nonRetryable(
          'The worker was built without a Temporal client',
          CHANNEL_PACER_UNAVAILABLE
        );
      }
      try {
        await temporal.workflow.getHandle(channelWorkflowId(channelId)).signal(channelTurnWithdrawalSignal, withdrawal);
      } catch (error) {
        if (!(error instanceof WorkflowNotFoundError)) throw error;
      }
    },

    /**
     * Posts the storm digest into the channel at its slot (once per activity, however often it is
     * retried). `where` is unset from pacers started before the digest knew its team.
     */
    async postChannelDigest(
      view: ChannelDigestView,
      where: { team?: DigestTeam; notBefore?: number } = {}
    ): Promise<SlackMessageRef> {
      const { workflowExecution, activityId } = Context.current().info;
      const key = `${workflowExecution?.workflowId}/${workflowExecution?.runId}/${activityId}`;
      const earlier = await db.slackMessage.findUnique({ where: { key } });
      if (earlier) return { channel: earlier.channel, ts: earlier.ts };
      const bot = await slackOf(where.team ?? { slackChannelId: view.channelId });
      await waitForSlot(where.notBefore);
      await channelSpacer?.take(view.channelId);
      const posted = await callSlack('chat.postMessage', () =>
        bot.postMessage({ channel: view.channelId, ...renderChannelDigest(view) })
      );
      await db.slackMessage.createMany({
        data: [{ key, channel: posted.channel, ts: posted.ts }],
        skipDuplicates: true,
      });
      return posted;
    },

    /** Rewrites the storm digest in place (chat.update, idempotent by nature). */
    async updateChannelDigest({
      message,
      view,
      team,
    }: {
      message: SlackMessageRef;
      view: ChannelDigestView;
      team?: DigestTeam;
    }): Promise<void> {
      const bot = await slackOf(team ?? { slackChannelId: view.channelId });
      await awaitUpdateTurn(team?.installationId);
      await callSlack('chat.update', () => bot.updateMessage({ ...message, ...renderChannelDigest(view) }));
    },

    /** The pacer's queue length, for `escalator_slack_channel_queue_length{channel}`. */
    // eslint-disable-next-line @typescript-eslint/require-await
    async reportChannelQueue({ channelId, waiting }: { channelId: string; waiting: number }): Promise<void> {
      metrics?.channelQueue.set(channelId, waiting);
    },
  };
}
