/**
 * Activities of the channel pacer (workflows/channel-workflow.ts): asking it for a turn, writing the
 * storm digest, and reporting its queue to metrics. Each is safe to run twice.
 */
import { WorkflowNotFoundError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { Context } from '@temporalio/activity';
import type { SlackMessageRef } from '../slack/client';
import { renderChannelDigest, type ChannelDigestView } from '../slack/digest-message';
import { toSlackFailure } from '../slack/errors';
import {
  CHANNEL_WORKFLOW_TYPE,
  channelQueuePositionQuery,
  channelTurnRequestSignal,
  channelTurnWithdrawalSignal,
  channelWorkflowId,
  type ChannelTurnRequest,
  type ChannelTurnWithdrawal,
} from '../workflows/definitions';
import type { ChannelWorkflowInput } from '../workflows/channel-workflow';
import type { ActivityDeps } from './index';

/** Error type of a turn request made by a worker built without a Temporal client (a wiring mistake). */
export const CHANNEL_PACER_UNAVAILABLE = 'ChannelPacerUnavailable';

/** How long a turn request waits for the pacer to say where it stands; it is only for the Web UI. */
const POSITION_QUERY_TIMEOUT_MS = 5_000;

export function createChannelActivities({ slack, db, log, metrics, temporal }: ActivityDeps) {
  async function callSlack<T>(method: string, call: () => Promise<T>): Promise<T> {
    try {
      return await call();
    } catch (error) {
      const failure = toSlackFailure(error, method);
      log.warn({ method, activity: Context.current().info.activityType, failure: failure.type }, failure.message);
      throw failure;
    }
  }

  return {
    /**
     * Queues a turn with the channel's pacer, starting the pacer if it is not running (a workflow
     * cannot signal-with-start another, so this is an activity). Returns how many turns are queued
     * before it, when the pacer says so quickly, for the alert's current details.
     */
    async requestChannelTurn(request: ChannelTurnRequest & { channelId: string }): Promise<{ ahead?: number }> {
      if (!temporal) {
        throw ApplicationFailure.nonRetryable(
          'The worker was built without a Temporal client',
          CHANNEL_PACER_UNAVAILABLE
        );
      }
      const { channelId, ...turn } = request;
      const workflowId = channelWorkflowId(channelId);
      const handle = await temporal.workflow.signalWithStart(CHANNEL_WORKFLOW_TYPE, {
        workflowId,
        taskQueue: Context.current().info.taskQueue,
        args: [{ channelId } satisfies ChannelWorkflowInput],
        signal: channelTurnRequestSignal,
        signalArgs: [turn],
      });
      try {
        const ahead = await Promise.race([
          handle.query(channelQueuePositionQuery, turn.requestId),
          new Promise<undefined>((resolve) => setTimeout(() => resolve(undefined), POSITION_QUERY_TIMEOUT_MS).unref()),
        ]);
        return { ahead: ahead ?? undefined };
      } catch (error) {
        log.debug({ workflowId, err: error }, 'Channel pacer did not say the queue position');
        return {};
      }
    },

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

    /** Posts the storm digest into the channel (once per activity, however often it is retried). */
    async postChannelDigest(view: ChannelDigestView): Promise<SlackMessageRef> {
      const { workflowExecution, activityId } = Context.current().info;
      const key = `${workflowExecution?.workflowId}/${workflowExecution?.runId}/${activityId}`;
      const earlier = await db.slackMessage.findUnique({ where: { key } });
      if (earlier) return { channel: earlier.channel, ts: earlier.ts };
      const posted = await callSlack('chat.postMessage', () =>
        slack.postMessage({ channel: view.channelId, ...renderChannelDigest(view) })
      );
      await db.slackMessage.createMany({
        data: [{ key, channel: posted.channel, ts: posted.ts }],
        skipDuplicates: true,
      });
      return posted;
    },

    /** Rewrites the storm digest in place (chat.update, idempotent by nature). */
    async updateChannelDigest({ message, view }: { message: SlackMessageRef; view: ChannelDigestView }): Promise<void> {
      await callSlack('chat.update', () => slack.updateMessage({ ...message, ...renderChannelDigest(view) }));
    },

    /** The pacer's queue length, for `escalator_slack_channel_queue_length{channel}`. */
    // eslint-disable-next-line @typescript-eslint/require-await
    async reportChannelQueue({ channelId, waiting }: { channelId: string; waiting: number }): Promise<void> {
      metrics?.channelQueue.set(channelId, waiting);
    },
  };
}
