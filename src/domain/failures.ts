/**
 * Error type names of activity failures that must not be retried. Activities throw
 * `ApplicationFailure.nonRetryable(message, TYPE)`; the workflow's retry policies name them.
 */

/** Slack refused for good (`channel_not_found`, `invalid_auth`, `not_in_channel`, …). */
export const SLACK_PERMANENT_ERROR = 'SlackPermanentError';

/**
 * Slack answered 429 to a paced call (a post or thread call made at its channel turn's slot). Not
 * retried by the activity, whose retry would meet the next slots and be refused again: the
 * workflow takes a new turn, which the channel pacer gives only after Slack's Retry-After
 * (details: `{ retryAfterSeconds }`).
 */
export const SLACK_PACED_RATE_LIMITED = 'SlackPacedRateLimited';
