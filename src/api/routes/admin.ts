/** The admin API under /api: bearer ADMIN_TOKEN on every route, checked before any body is read. */
import { Router } from 'express';
import type { Config } from '../../config';
import type { Database } from '../../db/client';
import type { SlackDirectory } from '../../slack/directory';
import { getAlertHandler, listAlertsHandler } from '../handlers/alerts';
import {
  createMonitorHandler,
  deleteMonitorHandler,
  getMonitorHandler,
  listMonitorsHandler,
  updateMonitorHandler,
} from '../handlers/heartbeats';
import {
  createTeamHandler,
  deleteTeamHandler,
  getTeamHandler,
  listTeamsHandler,
  rotateTokenHandler,
  updateTeamHandler,
} from '../handlers/teams';
import {
  addOverrideHandler,
  createScheduleHandler,
  deleteOverrideHandler,
  deleteScheduleHandler,
  getScheduleHandler,
  listSchedulesHandler,
  onCallHandler,
  replaceScheduleHandler,
  shiftsHandler,
} from '../handlers/schedules';
import type { Client } from '@temporalio/client';
import type { Logger } from '../../logger';
import { createMaintenanceHandler, deleteMaintenanceHandler, maintenanceAtHandler } from '../handlers/maintenance';
import { requireAdminToken } from '../middleware/admin-auth';
import { jsonBody } from '../middleware/body';
import type { CredentialGuard } from '../middleware/credential-guard';
import type { AlertIntake } from '../services/alert-intake';

const ADMIN_BODY_LIMIT = '64kb';

export function adminRoutes(deps: {
  config: Config;
  db: Database;
  /** Schedule changes start or wake the schedule's handoff watcher. */
  temporal: Client;
  log: Logger;
  directory?: SlackDirectory;
  guard: CredentialGuard;
  /** Heartbeat monitors resolve their open alert through it when deleted. */
  intake: Pick<AlertIntake, 'receiveAlert'>;
  clock: () => number;
}): Router {
  const router = Router();
  router.use(requireAdminToken(deps.config.adminToken, deps.guard));
  router.post('/teams', ...jsonBody(ADMIN_BODY_LIMIT), createTeamHandler(deps));
  router.get('/teams', listTeamsHandler(deps));
  router.get('/teams/:id', getTeamHandler(deps));
  router.patch('/teams/:id', ...jsonBody(ADMIN_BODY_LIMIT), updateTeamHandler(deps));
  router.delete('/teams/:id', deleteTeamHandler(deps));
  router.post('/teams/:id/token', rotateTokenHandler(deps));
  router.post('/teams/:id/maintenance', ...jsonBody(ADMIN_BODY_LIMIT), createMaintenanceHandler(deps));
  router.get('/teams/:id/maintenance', maintenanceAtHandler(deps));
  router.delete('/teams/:id/maintenance/:maintenanceId', deleteMaintenanceHandler(deps));
  router.post('/schedules', ...jsonBody(ADMIN_BODY_LIMIT), createScheduleHandler(deps));
  router.get('/schedules', listSchedulesHandler(deps));
  router.get('/schedules/:id', getScheduleHandler(deps));
  router.put('/schedules/:id', ...jsonBody(ADMIN_BODY_LIMIT), replaceScheduleHandler(deps));
  router.delete('/schedules/:id', deleteScheduleHandler(deps));
  router.get('/schedules/:id/oncall', onCallHandler(deps));
  router.get('/schedules/:id/shifts', shiftsHandler(deps));
  router.post('/schedules/:id/overrides', ...jsonBody(ADMIN_BODY_LIMIT), addOverrideHandler(deps));
  router.delete('/schedules/:id/overrides/:overrideId', deleteOverrideHandler(deps));
  router.post('/heartbeats', ...jsonBody(ADMIN_BODY_LIMIT), createMonitorHandler(deps));
  router.get('/heartbeats', listMonitorsHandler(deps));
  router.get('/heartbeats/:id', getMonitorHandler(deps));
  router.patch('/heartbeats/:id', ...jsonBody(ADMIN_BODY_LIMIT), updateMonitorHandler(deps));
  router.delete('/heartbeats/:id', deleteMonitorHandler(deps));
  router.get('/alerts', listAlertsHandler(deps));
  router.get('/alerts/:id', getAlertHandler(deps));
  return router;
}
