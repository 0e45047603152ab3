/** `GET /api/alerts` and `GET /api/alerts/:id`. */
import type { RequestHandler } from 'express';
import { z } from 'zod';
import type { Database } from '../../db/client';
import { ALERT_STATES } from '../../domain/alert';
import { HttpError } from '../errors';
import { getAlert, listAlerts } from '../services/alert-queries';
import { parseInput, pathId } from '../validation';

const DEFAULT_LIMIT = 50;
const MAX_LIMIT = 500;

const alertListQuery = z.object({
  state: z.enum(ALERT_STATES).optional(),
  team: z.string().min(1).max(40).optional(),
  limit: z.coerce.number().int().min(1).max(MAX_LIMIT).default(DEFAULT_LIMIT),
});

/** Lists alerts, newest first, filtered by `?state=`, `?team=` and capped by `?limit=`. */
export function listAlertsHandler({ db }: { db: Database }): RequestHandler {
  return async (req, res) => {
    const query = parseInput(alertListQuery, req.query, 'query');
    const alerts = await listAlerts(db, { state: query.state, teamName: query.team, limit: query.limit });
    res.json({ alerts });
  };
}

/** One alert with its timeline; 404 for an id that matches nothing, as for any resource (pathId). */
export function getAlertHandler({ db }: { db: Database }): RequestHandler {
  return async (req, res) => {
    const id = pathId(req.params.id, 'alert');
    const alert = await getAlert(db, id);
    if (!alert) throw new HttpError(404, 'no alert with this id');
    res.json(alert);
  };
}
