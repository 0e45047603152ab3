/** Alert intake over HTTP: the endpoint token in the path is the credential. */
import { Router } from 'express';
import type { Database } from '../../db/client';
import { alertmanagerHandler, endpointFromToken, webhookHandler } from '../handlers/webhooks';
import { rawBody } from '../middleware/body';
import type { CredentialGuard } from '../middleware/credential-guard';
import type { AlertIntake } from '../services/alert-intake';

/** Room for the biggest Alertmanager groups and SNS-sized messages; more is refused with 413. */
export const WEBHOOK_BODY_LIMIT = '256kb';

/**
 * `POST /webhooks/:token` (JSON, form, text; any recognised source), `GET /webhooks/:token` with
 * query parameters (Uptime Robot and other tools that can only call a URL), and
 * `POST /webhooks/:token/alertmanager`. The token is checked before the body is read.
 */
export function webhookRoutes(deps: { db: Database; intake: AlertIntake; guard: CredentialGuard }): Router {
  const router = Router();
  const endpoint = endpointFromToken(deps.db, deps.guard);
  router.post('/:token', endpoint, rawBody(WEBHOOK_BODY_LIMIT), webhookHandler(deps));
  router.get('/:token', endpoint, webhookHandler(deps));
  router.post('/:token/alertmanager', endpoint, rawBody(WEBHOOK_BODY_LIMIT), alertmanagerHandler(deps));
  return router;
}
