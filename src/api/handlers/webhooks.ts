/** `POST /webhooks/:token`: the generic JSON alert. */
import type { RequestHandler } from 'express';
import type { Database } from '../../db/client';
import { normaliseGenericAlert } from '../../sources/generic';
import { InvalidAlertError, type IncomingAlert } from '../../sources/types';
import { HttpError } from '../errors';
import { parseJson } from '../middleware/body';
import type { AlertIntake } from '../services/alert-intake';
import { findEndpointByToken } from '../services/endpoints';

/**
 * Looks up the endpoint first (an unknown token is 404 whatever the body), then validates the body
 * (400 naming the field), then hands the alert to the intake: 202 once it is durably in Temporal.
 */
export function genericWebhookHandler({ db, intake }: { db: Database; intake: AlertIntake }): RequestHandler<{
  token: string;
}> {
  return async (req, res) => {
    const endpoint = await findEndpointByToken(db, req.params.token);
    if (!endpoint) throw new HttpError(404, 'unknown endpoint token');
    let incoming: IncomingAlert;
    try {
      incoming = normaliseGenericAlert(parseJson(req.body));
    } catch (error) {
      if (error instanceof InvalidAlertError) throw new HttpError(400, error.message);
      throw error;
    }
    const result = await intake.receiveAlert(endpoint, incoming);
    res.status(202).json(result);
  };
}
