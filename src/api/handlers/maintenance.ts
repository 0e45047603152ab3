/** `/api/teams/:id/maintenance`: a team's maintenance windows (docs/maintenance.md). */
import type { Client } from '@temporalio/client';
import type { RequestHandler } from 'express';
import { z } from 'zod';
import type { Database } from '../../db/client';
import type { Logger } from '../../logger';
import { timeIntervalSchema, type TimeIntervalInput } from '../../maintenance/time-interval';
import { HttpError } from '../errors';
import { createWindow, deleteWindow, tellRunningAlerts, windowsAt } from '../services/maintenance';
import { parseInput, pathId } from '../validation';
import { instantSchema } from './schedules';

const windowSchema = z
  .object({
    reason: z.string().trim().max(500).optional(),
    startsAt: instantSchema.optional(),
    endsAt: instantSchema.optional(),
    recurrence: timeIntervalSchema.optional(),
    match: z
      .object({
        labels: z.record(z.string().min(1).max(100), z.string().max(500)).optional(),
        source: z.string().min(1).max(100).optional(),
      })
      .strict()
      .optional(),
  })
  .strict();

const atSchema = z.object({ at: instantSchema.optional() });

export interface MaintenanceDeps {
  db: Database;
  temporal: Client;
  log: Logger;
  /** Milliseconds since the epoch: "now" for windows without a start. */
  clock?: () => number;
}

/** The team of the path; a deleted (archived) team has no maintenance to change. */
async function teamIdOf(db: Database, param: unknown): Promise<string> {
  const id = pathId(param, 'team');
  if (!(await db.team.findUnique({ where: { id, archivedAt: null }, select: { id: true } }))) {
    throw new HttpError(404, 'no team with this id');
  }
  return id;
}

/** `POST /api/teams/:id/maintenance` → 201 `{id}`; the team's running alerts are told. */
export function createMaintenanceHandler(deps: MaintenanceDeps): RequestHandler {
  return async (req, res) => {
    const teamId = await teamIdOf(deps.db, req.params.id);
    const input = parseInput(windowSchema, req.body, 'body');
    const now = (deps.clock ?? Date.now)();
    const startsAt = input.startsAt ?? now;
    if (input.endsAt !== undefined && input.endsAt <= startsAt) {
      throw new HttpError(400, 'endsAt: must be after startsAt (or now, when startsAt is not given)');
    }
    if (input.endsAt !== undefined && input.endsAt <= now) throw new HttpError(400, 'endsAt: must be in the future');
    const window = await createWindow(deps.db, teamId, {
      reason: input.reason,
      startsAt,
      endsAt: input.endsAt,
      // Kept as the sender wrote it (Alertmanager's own words); validated above.
      recurrence: input.recurrence ? (req.body as { recurrence: TimeIntervalInput }).recurrence : undefined,
      match: input.match,
    });
    req.log.info({ teamId, maintenanceId: window.id }, 'maintenance window created');
    await tellRunningAlerts(deps, teamId);
    res.status(201).json({ id: window.id });
  };
}

/** `GET /api/teams/:id/maintenance?at=` → whether a window is in force then, and which. */
export function maintenanceAtHandler(deps: MaintenanceDeps): RequestHandler {
  return async (req, res) => {
    const teamId = await teamIdOf(deps.db, req.params.id);
    const { at } = parseInput(atSchema, req.query, 'query');
    res.json(await windowsAt(deps.db, teamId, at ?? (deps.clock ?? Date.now)()));
  };
}

/** `DELETE /api/teams/:id/maintenance/:maintenanceId` → 204; the team's running alerts are told. */
export function deleteMaintenanceHandler(deps: MaintenanceDeps): RequestHandler {
  return async (req, res) => {
    const teamId = await teamIdOf(deps.db, req.params.id);
    const windowId = pathId(req.params.maintenanceId, 'maintenance window');
    if (!(await deleteWindow(deps.db, teamId, windowId))) {
      throw new HttpError(404, 'no maintenance window with this id in this team');
    }
    req.log.info({ teamId, maintenanceId: windowId }, 'maintenance window deleted');
    await tellRunningAlerts(deps, teamId);
    res.status(204).end();
  };
}
