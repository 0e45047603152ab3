/** Alert intake over HTTP: the endpoint token in the path is the credential. */
import { Router } from 'express';
import type { Database } from '../../db/client';
import { genericWebhookHandler } from '../handlers/webhooks';
import { rawBody } from '../middleware/body';
import type { AlertIntake } from '../services/alert-intake';

/** SNS messages go up to 256 KiB; other senders get the same room. */
export const WEBHOOK_BODY_LIMIT = '256kb';

export function webhookRoutes(deps: { db: Database; intake: AlertIntake }): Router {
  const router = Router();
  router.post('/:token', rawBody(WEBHOOK_BODY_LIMIT), genericWebhookHandler(deps));
  return router;
}
