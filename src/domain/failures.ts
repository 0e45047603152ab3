/**
 * Error type names of activity failures that must not be retried. Activities throw
 * `ApplicationFailure.nonRetryable(message, TYPE)`; the workflow's retry policies name them.
 */

/** Slack refused for good (`channel_not_found`, `invalid_auth`, `not_in_channel`, …). */
export const SLACK_PERMANENT_ERROR = 'SlackPermanentError';
