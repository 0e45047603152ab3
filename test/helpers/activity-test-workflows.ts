/**
 * A workflow that runs one Slack activity under the production activity options, so that
 * activity tests see Temporal's real retry policy (backoff, Retry-After, non-retryable types).
 */
import { proxyActivities } from '@temporalio/workflow';
import type { AlertActivities } from '../../src/activities';
import { SLACK_ACTIVITY_OPTIONS } from '../../src/workflows/activity-options';

const slack = proxyActivities<AlertActivities>(SLACK_ACTIVITY_OPTIONS);

export type SlackActivityName =
  | 'postAlertMessage'
  | 'updateAlertMessage'
  | 'notifyInThread'
  | 'sendDirectMessage'
  | 'updateDirectMessage'
  | 'noteEndInThread';

/** One call of a Slack activity: its name and its single argument. */
export type SlackActivityCall = {
  [Name in SlackActivityName]: { activity: Name; input: Parameters<AlertActivities[Name]>[0] };
}[SlackActivityName];

/** Runs the activity once (with the production retries) and returns what it returned. */
export async function runSlackActivity(call: SlackActivityCall): Promise<unknown> {
  switch (call.activity) {
    case 'postAlertMessage':
      return slack.postAlertMessage(call.input);
    case 'updateAlertMessage':
      return slack.updateAlertMessage(call.input);
    case 'notifyInThread':
      return slack.notifyInThread(call.input);
    case 'sendDirectMessage':
      return slack.sendDirectMessage(call.input);
    case 'updateDirectMessage':
      return slack.updateDirectMessage(call.input);
    case 'noteEndInThread':
      return slack.noteEndInThread(call.input);
  }
}
