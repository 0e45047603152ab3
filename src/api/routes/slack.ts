/** Requests from Slack: every one signature-checked over its raw bytes before it is parsed. */
import { Router } from 'express';
import type { Database } from '../../db/client';
import { slackInteractionsHandler } from '../handlers/slack';
import { rawBody } from '../middleware/body';
import { verifySlackRequest } from '../middleware/slack-verification';
import type { SlackResponder } from '../services/slack-actions';
import type { SlackAppRoutes } from '../slack-app';

const SLACK_BODY_LIMIT = '1mb';

export function slackRoutes(deps: {
  signingSecret: string | undefined;
  clock: () => number;
  db: Database;
  responder: SlackResponder;
  app: SlackAppRoutes;
}): Router {
  const router = Router();
  // A browser opens these two (no Slack signature): served before the signature check.
  if (deps.app.install) {
    router.get('/install', deps.app.install.install);
    router.get('/oauth_redirect', deps.app.install.redirect);
  }
  router.use(rawBody(SLACK_BODY_LIMIT), verifySlackRequest(deps.signingSecret, deps.clock));
  router.post(
    '/interactions',
    slackInteractionsHandler({ ...deps, workspaces: deps.app.workspaces, views: deps.app.views })
  );
  router.post('/events', deps.app.events);
  router.post('/commands', deps.app.commands);
  return router;
}
