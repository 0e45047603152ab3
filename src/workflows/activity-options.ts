/**
 * Timeouts and retry policies of the alert workflow's activities. Retries belong here, to
 * Temporal, and nowhere else: the Slack client itself never retries or queues (FACTS.md).
 */
import type { ActivityOptions, LocalActivityOptions } from '@temporalio/workflow';
import { SLACK_PERMANENT_ERROR } from '../domain/failures';

/**
 * One Slack Web API call (two for a direct message) with a 3-second HTTP timeout each.
 * Backs off 1 s, 2 s, 4 s … up to a minute; gives up after 10 minutes so that a long Slack
 * outage lands in the timeline while the escalation timer keeps running.
 */
export const SLACK_ACTIVITY_OPTIONS: ActivityOptions = {
  startToCloseTimeout: '10s',
  scheduleToCloseTimeout: '10m',
  retry: {
    initialInterval: '1s',
    backoffCoefficient: 2,
    maximumInterval: '1m',
    nonRetryableErrorTypes: [SLACK_PERMANENT_ERROR],
  },
};

/** Timeline and state writes: retried until PostgreSQL is back, since the timeline must be complete. */
export const DATABASE_ACTIVITY_OPTIONS: ActivityOptions = {
  startToCloseTimeout: '10s',
  retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '30s' },
};

/**
 * The alert workflow's message rewrites, direct messages and timeline writes run as local
 * activities, with the same timeouts and retries: in the worker that runs the workflow, recorded
 * in the workflow task that asked for them. A regular activity costs the server a task of its own
 * and the workflow a task more to see its result; for calls this short that was most of an
 * alert's cost (README, "Performance"). Retries past a minute wait on a timer, so a long Slack
 * outage holds no workflow task open. Posts into the channel stay activity tasks (alert-workflow.ts).
 */
export const LOCAL_SLACK_ACTIVITY_OPTIONS: LocalActivityOptions = { ...SLACK_ACTIVITY_OPTIONS };
export const LOCAL_DATABASE_ACTIVITY_OPTIONS: LocalActivityOptions = { ...DATABASE_ACTIVITY_OPTIONS };

/**
 * Withdrawing a post whose alert ended while it waited (one statement in PostgreSQL): quick, and
 * retried until it lands. Runs that asked for their turn as an activity task use it for that too.
 */
export const CHANNEL_TURN_ACTIVITY_OPTIONS: ActivityOptions = {
  startToCloseTimeout: '10s',
  retry: { initialInterval: '500ms', backoffCoefficient: 2, maximumInterval: '10s' },
};

/**
 * The storm digest: posted or rewritten in the background of the channel pacer. A digest that
 * cannot be written within a minute is skipped: the next rewrite writes it again.
 */
export const DIGEST_ACTIVITY_OPTIONS: ActivityOptions = {
  startToCloseTimeout: '10s',
  scheduleToCloseTimeout: '1m',
  retry: {
    initialInterval: '1s',
    backoffCoefficient: 2,
    maximumInterval: '10s',
    nonRetryableErrorTypes: [SLACK_PERMANENT_ERROR],
  },
};

/**
 * Asking for a turn (one statement in PostgreSQL, and a wake of the pacer now and then) runs as a
 * local activity, in the workflow task that wants the turn: as an activity task it waited behind a
 * storm's other work. Retried in the worker until it lands (backoffs past a few seconds become
 * timers): an alert that never gets its turn would never be posted.
 */
export const CHANNEL_TURN_LOCAL_ACTIVITY_OPTIONS: LocalActivityOptions = {
  startToCloseTimeout: '10s',
  retry: { initialInterval: '500ms', backoffCoefficient: 2, maximumInterval: '10s' },
};

/** The pacer's rounds and its letting go of the channel: one statement each, retried until PostgreSQL answers. */
export const CHANNEL_ROUND_LOCAL_ACTIVITY_OPTIONS: LocalActivityOptions = {
  startToCloseTimeout: '10s',
  retry: { initialInterval: '500ms', backoffCoefficient: 2, maximumInterval: '10s' },
};

/**
 * A handoff notice or the user group's update: retried with backoff for up to 10 minutes (Slack
 * down, 429), then left for the next handoff; a refusal (bot not in the channel, no such group, a
 * missing scope) is not retried.
 */
export const HANDOFF_SLACK_ACTIVITY_OPTIONS: ActivityOptions = { ...SLACK_ACTIVITY_OPTIONS };

/**
 * Who is on call now and until when (a query and the pure core): a local activity, in the workflow
 * task that wakes at the handoff, so that the notice follows within a second. Retried until
 * PostgreSQL answers.
 */
export const ON_CALL_READ_LOCAL_ACTIVITY_OPTIONS: LocalActivityOptions = { ...DATABASE_ACTIVITY_OPTIONS };
