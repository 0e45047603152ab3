/**
 * What every activity factory takes (its clients, injected) and the identity that makes an
 * activity's writes happen once: below the factories and the index that assembles them.
 */
import { Context } from '@temporalio/activity';
import type { Client } from '@temporalio/client';
import type { Database } from '../db/client';
import type { ChannelPace } from '../domain/channel-pace';
import type { Logger } from '../logger';
import type { Metrics } from '../observability/metrics';
import type { ChannelSpacer } from '../slack/channel-spacer';
import type { SlackApi } from '../slack/client';
import type { PeopleNames } from '../slack/people-names';
import { toSlackFailure } from '../slack/errors';
import type { SlackForTeam } from '../slack/team-slack';

export interface ActivityDeps {
  slack: SlackApi;
  db: Database;
  log: Logger;
  /** Lifecycle counters and histograms (escalations, acknowledgements, time to close). */
  metrics?: Metrics;
  /** The Slack client of an alert's team (its installation's bot); unset: `slack` for every team. */
  slackForTeam?: SlackForTeam;
  /** Temporal client: asking a channel's pacer for a turn is a signal-with-start (channel-activities.ts). */
  temporal?: Client;
  /** How channels are paced, where it differs from DEFAULT_CHANNEL_PACE (the storm threshold: STORM_THRESHOLD). */
  channelPace?: Partial<ChannelPace>;
  /** Spaces this process's posts into each channel (one per process; made here when not given). */
  channelSpacer?: ChannelSpacer;
  /** People's display names, kept per process (made by the Slack activities when not given). */
  peopleNames?: PeopleNames;
}

/**
 * The identity of the running activity, the same for each of its attempts: what makes its writes
 * and posts happen once. Local activities count their ids apart from the others, hence the mark.
 */
export function activityKey(): string {
  const { workflowExecution, activityId, isLocal } = Context.current().info;
  return `${workflowExecution?.workflowId}/${workflowExecution?.runId}/${isLocal ? 'local-' : ''}${activityId}`;
}

/**
 * Runs one Slack call of an activity: its error leaves as a Temporal failure that says whether to
 * retry (slack/errors.ts), logged once with the attempt it ended.
 */
export async function callSlack<T>(log: Logger, method: string, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    const failure = toSlackFailure(error, method);
    const { attempt, activityType, workflowExecution } = Context.current().info;
    log.warn(
      {
        method,
        activity: activityType,
        workflowId: workflowExecution?.workflowId,
        attempt,
        failure: failure.type,
        retry: !failure.nonRetryable,
      },
      failure.message
    );
    throw failure;
  }
}

/** The bot that speaks for a team: its installation's (OAuth mode), else the one client. */
export function slackOfTeam(
  { slack, slackForTeam }: Pick<ActivityDeps, 'slack' | 'slackForTeam'>,
  team: Parameters<SlackForTeam>[0]
): Promise<SlackApi> {
  return slackForTeam ? slackForTeam(team) : Promise.resolve(slack);
}
