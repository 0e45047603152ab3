/** AWS SNS HTTPS subscriptions: the endpoint token in the path, then the message's own signature. */
import { Router } from 'express';
import type { Database } from '../../db/client';
import { snsHandler, type SnsHandlerDeps } from '../handlers/sns';
import { endpointFromToken } from '../handlers/webhooks';
import { rawBody } from '../middleware/body';
import type { CredentialGuard } from '../middleware/credential-guard';

/**
 * SNS caps the published message at 256 KiB, not the HTTP body: the envelope's fields and the
 * escaping of a JSON message inside the `Message` string make the body larger. SNS never
 * retries a 413, so the limit leaves room rather than drop a real alarm.
 */
export const SNS_BODY_LIMIT = '512kb';

/**
 * `POST /sns/:token`: the body is read raw whatever its Content-Type (SNS sends JSON as
 * text/plain), and only after the token named an endpoint.
 */
export function snsRoutes(deps: SnsHandlerDeps & { db: Database; guard: CredentialGuard }): Router {
  const router = Router();
  router.post('/:token', endpointFromToken(deps.db, deps.guard), rawBody(SNS_BODY_LIMIT), snsHandler(deps));
  return router;
}
