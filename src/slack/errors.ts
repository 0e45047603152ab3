/**
 * Turns errors of the Slack Web API client into Temporal failures, so that Temporal's retry
 * policy (activity-options.ts) does the retrying: permanent refusals fail at once, rate limits wait
 * as long as Slack asks, and outages, timeouts and 5xx answers are retried with backoff.
 */
import { ApplicationFailure } from '@temporalio/common';
import { ErrorCode, type WebAPIPlatformError } from '@slack/web-api';
import { SLACK_PERMANENT_ERROR } from '../domain/failures';

/** Slack asked us to slow down (HTTP 429); retried after its `Retry-After`. */
export const SLACK_RATE_LIMITED = 'SlackRateLimited';
/** Slack could not be reached or failed on its side (timeout, connection error, 5xx, internal_error); retried. */
export const SLACK_UNAVAILABLE = 'SlackUnavailable';

/**
 * Platform errors (`{ok: false, error}`) that Slack documents as its own trouble and that may
 * succeed when tried again. Every other platform error is an answer about our request (bad
 * token, unknown channel, bot not in the channel, malformed blocks …): the same request gets the
 * same answer, so retrying it for ten minutes would only delay the timeline entry.
 */
const TRANSIENT_PLATFORM_ERRORS = new Set([
  'internal_error',
  'fatal_error',
  'service_unavailable',
  'request_timeout',
  'ratelimited',
  'rate_limited',
  'team_added_to_org',
]);

/**
 * Platform errors known to be permanent, named here so that a reader sees what is expected;
 * unknown codes are treated the same way (see above).
 */
export const PERMANENT_PLATFORM_ERRORS: readonly string[] = [
  'invalid_auth',
  'not_authed',
  'account_inactive',
  'token_revoked',
  'token_expired',
  'no_permission',
  'missing_scope',
  'channel_not_found',
  'not_in_channel',
  'is_archived',
  'user_not_found',
  'users_not_found',
  'user_disabled',
  'cannot_dm_bot',
  'msg_too_long',
  'invalid_blocks',
  'invalid_blocks_format',
  'invalid_arguments',
  'invalid_arg_name',
  'no_text',
  'too_many_attachments',
  'message_not_found',
  'cant_update_message',
  'edit_window_closed',
  'restricted_action',
  'restricted_action_read_only_channel',
  'restricted_action_thread_only_channel',
  'restricted_action_non_threadable_channel',
  'ekm_access_denied',
  'team_access_not_granted',
];

/** The Slack error code of a platform error (`channel_not_found` …), or undefined for other errors. */
export function slackErrorCode(error: unknown): string | undefined {
  if (!isObject(error) || error.code !== ErrorCode.PlatformError) return undefined;
  return (error as unknown as WebAPIPlatformError).data?.error;
}

/**
 * Classifies an error thrown while calling Slack (`what`, e.g. `chat.postMessage`) as a Temporal
 * failure for an activity to throw:
 * - platform errors that are about our request (`channel_not_found`, `invalid_auth`, …) →
 *   non-retryable `SlackPermanentError` with the Slack error code in the message and details;
 * - HTTP 429 → retryable `SlackRateLimited` whose `nextRetryDelay` is Slack's `Retry-After`;
 * - HTTP 5xx, timeouts, connection errors, transient platform errors → retryable `SlackUnavailable`.
 * A failure that is already an `ApplicationFailure` passes through unchanged.
 */
export function toSlackFailure(error: unknown, what: string): ApplicationFailure {
  if (error instanceof ApplicationFailure) return error;
  const cause = asError(error);
  if (!isObject(error)) return retryable(`${what} failed: ${cause.message}`, cause);

  switch (error.code) {
    case ErrorCode.PlatformError: {
      const code = slackErrorCode(error) ?? 'unknown_error';
      if (TRANSIENT_PLATFORM_ERRORS.has(code)) return retryable(`Slack ${what} failed for now: ${code}`, cause, code);
      return ApplicationFailure.create({
        message: `Slack refused ${what}: ${code}`,
        type: SLACK_PERMANENT_ERROR,
        nonRetryable: true,
        details: [{ slackError: code, method: what }],
        cause,
      });
    }
    case ErrorCode.RateLimitedError: {
      const retryAfterSeconds = typeof error.retryAfter === 'number' ? error.retryAfter : 1;
      return ApplicationFailure.create({
        message: `Slack rate-limited ${what}; retrying after ${retryAfterSeconds} s`,
        type: SLACK_RATE_LIMITED,
        nonRetryable: false,
        // Retry-After is a minimum: Temporal's own backoff could otherwise come back too early.
        nextRetryDelay: Math.max(retryAfterSeconds, 1) * 1000,
        details: [{ retryAfterSeconds, method: what }],
        cause,
      });
    }
    case ErrorCode.HTTPError: {
      const status = typeof error.statusCode === 'number' ? error.statusCode : 0;
      // A 4xx other than 408/429 means the URL or request is wrong (say, SLACK_API_URL): it will not heal.
      if (status >= 400 && status < 500 && status !== 408 && status !== 429) {
        return ApplicationFailure.create({
          message: `Slack answered ${what} with HTTP ${status}`,
          type: SLACK_PERMANENT_ERROR,
          nonRetryable: true,
          details: [{ httpStatus: status, method: what }],
          cause,
        });
      }
      return retryable(`Slack answered ${what} with HTTP ${status}`, cause, `http_${status}`);
    }
    case ErrorCode.RequestError: {
      const original = isObject(error.original) ? asError(error.original) : cause;
      // Where fetch's error crossed a realm, @slack/web-api re-wrapped it as `Error("TimeoutError: …")`.
      const timedOut = /^(TimeoutError|AbortError)\b/.test(original.name) || /^TimeoutError\b/.test(original.message);
      // fetch says only "fetch failed"; the socket's own code (ECONNREFUSED …) sits in its cause.
      const socketCode = isObject(original.cause) && typeof original.cause.code === 'string' ? original.cause.code : '';
      const detail = socketCode ? `${original.message}: ${socketCode}` : original.message;
      const reason = timedOut ? 'timed out' : `could not reach Slack (${detail})`;
      return retryable(`Slack ${what} ${reason}`, cause, timedOut ? 'timeout' : 'request_error');
    }
    default:
      return retryable(`Slack ${what} failed: ${cause.message}`, cause);
  }
}

function retryable(message: string, cause: Error, reason?: string): ApplicationFailure {
  return ApplicationFailure.create({
    message,
    type: SLACK_UNAVAILABLE,
    nonRetryable: false,
    details: reason ? [{ reason }] : undefined,
    cause,
  });
}

/**
 * Duck-typed rather than `instanceof Error`: fetch's errors (DOMException, undici's TypeError) may
 * come from another realm (jest's sandbox, a worker thread), where `instanceof` says no.
 */
function asError(value: unknown): Error {
  if (isObject(value) && typeof value.message === 'string' && typeof value.name === 'string') {
    return value as unknown as Error;
  }
  return new Error(String(value));
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null;
}
