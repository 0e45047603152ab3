/** The admin API under /api: bearer ADMIN_TOKEN on every route, checked before any body is read. */
import { Router } from 'express';
import type { Config } from '../../config';
import type { Database } from '../../db/client';
import { getAlertHandler, listAlertsHandler } from '../handlers/alerts';
import { createTeamHandler } from '../handlers/teams';
import { requireAdminToken } from '../middleware/admin-auth';
import { jsonBody } from '../middleware/body';

const ADMIN_BODY_LIMIT = '64kb';

export function adminRoutes(deps: { config: Config; db: Database }): Router {
  const router = Router();
  router.use(requireAdminToken(deps.config.adminToken));
  router.post('/teams', ...jsonBody(ADMIN_BODY_LIMIT), createTeamHandler(deps));
  router.get('/alerts', listAlertsHandler(deps));
  router.get('/alerts/:id', getAlertHandler(deps));
  return router;
}
