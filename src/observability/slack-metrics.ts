/**
 * Slack call metrics, recorded around the `SlackApi` seam so that every implementation (the real
 * client, the dry run) is counted the same way without knowing about Prometheus.
 */
import { Context } from '@temporalio/activity';
import type { SlackApi } from '../slack/client';
import { recordSlackCall, type Metrics, type SlackCallOutcome } from './metrics';

/** The Slack Web API method behind each `SlackApi` operation: the `method` label. */
export const SLACK_METHODS = {
  displayNameOf: 'users.info',
  postMessage: 'chat.postMessage',
  updateMessage: 'chat.update',
  updateUsergroupUsers: 'usergroups.users.update',
  // Two calls (users.getPresence and dnd.info), counted under the first.
  presenceOf: 'users.getPresence',
} as const satisfies Record<keyof SlackApi, string>;

/** @slack/web-api's code for a 429 refused with `rejectRateLimitedCalls: true`. */
const RATE_LIMITED_CODE = 'slack_webapi_rate_limited_error';

/**
 * Sorts a failed Slack call into an `outcome` label. Looks through wrapped errors (`cause`, and
 * @slack/web-api's `original`) so that it works whether or not the client re-throws them as
 * Temporal failures: a 429 is `rate_limited` (code, or a `retryAfter`), an HTTP timeout
 * (`AbortSignal.timeout`, socket timeouts) is `timeout`, anything else is `error`.
 */
export function slackCallOutcome(error: unknown): Exclude<SlackCallOutcome, 'ok'> {
  const seen = new Set<unknown>();
  for (
    let current: unknown = error;
    isObject(current) && !seen.has(current);
    current = current.cause ?? current.original
  ) {
    seen.add(current);
    if (current.code === RATE_LIMITED_CODE || typeof current.retryAfter === 'number') return 'rate_limited';
    if (isTimeout(current)) return 'timeout';
  }
  return 'error';
}

/**
 * `AbortSignal.timeout` rejects fetch with a `TimeoutError`. @slack/web-api keeps it as `original`
 * only when it is an `Error` of its own realm; otherwise (a DOMException from another realm, as
 * under jest) it keeps just the text, `TimeoutError: The operation was aborted due to timeout`.
 */
function isTimeout(error: Record<string, unknown>): boolean {
  if (error.name === 'TimeoutError' || error.code === 'ETIMEDOUT' || error.code === 'UND_ERR_CONNECT_TIMEOUT')
    return true;
  return typeof error.message === 'string' && /^TimeoutError: /.test(error.message);
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null;
}

export interface InstrumentSlackOptions {
  /**
   * The attempt number of the activity making the call, to count retries. Defaults to Temporal's
   * activity context; outside an activity (the gateway, tests) every call is a first attempt.
   */
  attempt?: () => number;
}

/**
 * Wraps a `SlackApi` so that each call is counted in `escalator_slack_calls_total{method,outcome}`
 * and, when it runs in a retried activity attempt, in `escalator_slack_retries_total{method}`.
 * Errors pass through unchanged: retrying is Temporal's job, not this wrapper's.
 */
export function instrumentSlackApi(
  slack: SlackApi,
  metrics: Metrics,
  { attempt = currentActivityAttempt }: InstrumentSlackOptions = {}
): SlackApi {
  const counted = async <T>(operation: keyof SlackApi, call: () => Promise<T>): Promise<T> => {
    const method = SLACK_METHODS[operation];
    const retried = attempt() > 1;
    try {
      const result = await call();
      recordSlackCall(metrics, { method, outcome: 'ok', retried });
      return result;
    } catch (error) {
      recordSlackCall(metrics, { method, outcome: slackCallOutcome(error), retried });
      throw error;
    }
  };
  const presenceOf = slack.presenceOf?.bind(slack);
  return {
    ...(slack.displayNameOf
      ? { displayNameOf: (userId: string) => counted('displayNameOf', () => slack.displayNameOf!(userId)) }
      : {}),
    postMessage: (args) => counted('postMessage', () => slack.postMessage(args)),
    updateMessage: (args) => counted('updateMessage', () => slack.updateMessage(args)),
    updateUsergroupUsers: (args) => counted('updateUsergroupUsers', () => slack.updateUsergroupUsers(args)),
    ...(presenceOf ? { presenceOf: (userId: string) => counted('presenceOf', () => presenceOf(userId)) } : {}),
  };
}

/** The current activity's attempt number (1 for the first), or 1 outside an activity. */
export function currentActivityAttempt(): number {
  try {
    return Context.current().info.attempt;
  } catch {
    return 1;
  }
}
