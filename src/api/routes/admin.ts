/** The admin API under /api: bearer ADMIN_TOKEN on every route, checked before any body is read. */
import { Router } from 'express';
import type { Config } from '../../config';
import type { Database } from '../../db/client';
import type { SlackDirectory } from '../../slack/directory';
import { getAlertHandler, listAlertsHandler } from '../handlers/alerts';
import {
  createTeamHandler,
  deleteTeamHandler,
  getTeamHandler,
  listTeamsHandler,
  rotateTokenHandler,
  updateTeamHandler,
} from '../handlers/teams';
import { requireAdminToken } from '../middleware/admin-auth';
import { jsonBody } from '../middleware/body';
import type { CredentialGuard } from '../middleware/credential-guard';

const ADMIN_BODY_LIMIT = '64kb';

export function adminRoutes(deps: {
  config: Config;
  db: Database;
  directory?: SlackDirectory;
  guard: CredentialGuard;
}): Router {
  const router = Router();
  router.use(requireAdminToken(deps.config.adminToken, deps.guard));
  router.post('/teams', ...jsonBody(ADMIN_BODY_LIMIT), createTeamHandler(deps));
  router.get('/teams', listTeamsHandler(deps));
  router.get('/teams/:id', getTeamHandler(deps));
  router.patch('/teams/:id', ...jsonBody(ADMIN_BODY_LIMIT), updateTeamHandler(deps));
  router.delete('/teams/:id', deleteTeamHandler(deps));
  router.post('/teams/:id/token', rotateTokenHandler(deps));
  router.get('/alerts', listAlertsHandler(deps));
  router.get('/alerts/:id', getAlertHandler(deps));
  return router;
}
