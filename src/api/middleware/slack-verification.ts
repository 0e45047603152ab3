/** Refuses any /slack/* request that Slack did not sign: a thin wrapper over verifySlackSignature. */
import type { RequestHandler } from 'express';
import { HttpError } from '../errors';
import { verifySlackSignature } from '../slack-signature';

/**
 * Expects the raw body (a Buffer from `rawBody`). 401 when SLACK_SIGNING_SECRET is unset, or the
 * signature is missing, forged or stale.
 */
export function verifySlackRequest(signingSecret: string | undefined, clock: () => number): RequestHandler {
  return (req, _res, next) => {
    if (!signingSecret) {
      throw new HttpError(401, 'SLACK_SIGNING_SECRET is not configured: Slack requests cannot be verified');
    }
    const result = verifySlackSignature({
      signingSecret,
      rawBody: Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0),
      timestampHeader: req.get('x-slack-request-timestamp'),
      signatureHeader: req.get('x-slack-signature'),
      nowMs: clock(),
    });
    if (!result.ok) throw new HttpError(401, `invalid Slack request signature: ${result.reason}`);
    next();
  };
}
