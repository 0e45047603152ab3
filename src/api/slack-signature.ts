/**
 * Slack request signing (https://api.slack.com/authentication/verifying-requests-from-slack): a
 * pure check over the raw bytes, so that it can be tested with any clock and reused by any route.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

/** How far a request's timestamp may be from now, in either direction, before it counts as replayed. */
export const SLACK_SIGNATURE_MAX_AGE_MS = 5 * 60_000;

export interface SlackSignatureInput {
  signingSecret: string;
  /** The body exactly as it arrived: a re-serialised body must not verify. */
  rawBody: Buffer | string;
  /** `X-Slack-Request-Timestamp`, in seconds since the epoch. */
  timestampHeader: string | undefined;
  /** `X-Slack-Signature`, `v0=` followed by a hex HMAC-SHA256. */
  signatureHeader: string | undefined;
  nowMs: number;
}

export type SlackSignatureResult = { ok: true } | { ok: false; reason: string };

/**
 * Verifies a Slack request signature: `v0=` + hex HMAC-SHA256(secret, `v0:{timestamp}:{raw body}`),
 * compared in constant time. Refuses a missing or non-numeric timestamp and one more than five
 * minutes away from `nowMs` in either direction (Bolt checks only the past; a future timestamp
 * would let a captured request be replayed later).
 */
export function verifySlackSignature(input: SlackSignatureInput): SlackSignatureResult {
  const { signingSecret, rawBody, timestampHeader, signatureHeader, nowMs } = input;
  if (!timestampHeader) return { ok: false, reason: 'missing X-Slack-Request-Timestamp header' };
  if (!signatureHeader) return { ok: false, reason: 'missing X-Slack-Signature header' };
  if (!/^\d{1,12}$/.test(timestampHeader)) return { ok: false, reason: 'X-Slack-Request-Timestamp is not a number' };
  const timestampMs = Number(timestampHeader) * 1000;
  if (Math.abs(nowMs - timestampMs) > SLACK_SIGNATURE_MAX_AGE_MS) {
    return { ok: false, reason: 'X-Slack-Request-Timestamp is more than 5 minutes from now' };
  }

  const body = typeof rawBody === 'string' ? Buffer.from(rawBody, 'utf8') : rawBody;
  const expected = Buffer.from(
    `v0=${createHmac('sha256', signingSecret).update(`v0:${timestampHeader}:`).update(body).digest('hex')}`,
    'utf8'
  );
  const actual = Buffer.from(signatureHeader, 'utf8');
  // timingSafeEqual throws on different lengths; the length of a valid signature is no secret.
  if (actual.length !== expected.length || !timingSafeEqual(actual, expected)) {
    return { ok: false, reason: 'X-Slack-Signature does not match' };
  }
  return { ok: true };
}
