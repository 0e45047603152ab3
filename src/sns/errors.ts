/**
 * What can go wrong with an SNS request, by the answer it deserves. SNS retries only 5xx and
 * silence (FACTS.md), so the class decides whether AWS will try again.
 */

/** The body is not an SNS envelope at all (not JSON, a field missing, raw message delivery): 400. */
export class SnsFormatError extends Error {
  override name = 'SnsFormatError';
}

/** The envelope is not provably from AWS (signature, certificate URL, age, topic): 401. */
export class SnsVerificationError extends Error {
  override name = 'SnsVerificationError';
}

/** A verified message from a topic this endpoint does not accept: 403 (401 will do). */
export class SnsTopicNotAllowedError extends SnsVerificationError {
  override name = 'SnsTopicNotAllowedError';
}

/**
 * AWS could not be reached to fetch the signing certificate or confirm a subscription: 503, so
 * that SNS delivers again later instead of dropping the message.
 */
export class SnsUnavailableError extends Error {
  override name = 'SnsUnavailableError';
}
