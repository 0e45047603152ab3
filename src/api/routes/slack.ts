/** Requests from Slack: every one signature-checked over its raw bytes before it is parsed. */
import { Router } from 'express';
import type { Database } from '../../db/client';
import { slackEventsHandler, slackInteractionsHandler } from '../handlers/slack';
import { rawBody } from '../middleware/body';
import { verifySlackRequest } from '../middleware/slack-verification';
import type { SlackResponder } from '../services/slack-actions';

const SLACK_BODY_LIMIT = '1mb';

export function slackRoutes(deps: {
  signingSecret: string | undefined;
  clock: () => number;
  db: Database;
  responder: SlackResponder;
}): Router {
  const router = Router();
  router.use(rawBody(SLACK_BODY_LIMIT), verifySlackRequest(deps.signingSecret, deps.clock));
  router.post('/interactions', slackInteractionsHandler(deps));
  router.post('/events', slackEventsHandler);
  return router;
}
