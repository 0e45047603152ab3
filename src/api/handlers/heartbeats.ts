/**
 * `/api/heartbeats` (bearer): create, list, read, change and delete heartbeat monitors; and
 * `GET|POST|HEAD /heartbeats/:token`, the ping, whose token in the path is its credential.
 */
import type { RequestHandler } from 'express';
import { z } from 'zod';
import { parseDuration, type Config } from '../../config';
import type { Database } from '../../db/client';
import { SEVERITIES } from '../../domain/alert';
import { recordPing } from '../../heartbeats/store';
import { HttpError } from '../errors';
import type { CredentialGuard } from '../middleware/credential-guard';
import type { AlertIntake } from '../services/alert-intake';
import { hashEndpointToken, looksLikeToken } from '../services/endpoints';
import {
  createMonitor,
  deleteMonitor,
  getMonitor,
  listMonitors,
  MonitorNameTakenError,
  UnknownTeamError,
  updateMonitor,
} from '../services/heartbeats';
import { parseInput, UUID, pathId } from '../validation';

/** PRODUCT.md: an interval of at least 10 s. The upper bounds keep a deadline within reach of an int column. */
const MIN_INTERVAL_MS = 10_000;
const MAX_INTERVAL_MS = 7 * 24 * 3_600_000;
const MAX_GRACE_MS = 24 * 3_600_000;
const DEFAULT_GRACE_MS = 30_000;
/** No control characters: the name goes into the alert's title. */
const MONITOR_NAME = /^[^\p{Cc}]+$/u;

function durationSchema(minMs: number, maxMs: number, range: string) {
  return z.string().transform((text, ctx) => {
    const ms = /^\s*0\s*(ms|s|m|h)?\s*$/.test(text) ? 0 : parseDuration(text);
    if (ms === undefined || ms < minMs || ms > maxMs) {
      ctx.addIssue({ code: 'custom', message: `expected a duration ${range} such as 30s or 5m, got "${text}"` });
      return z.NEVER;
    }
    return ms;
  });
}

const intervalSchema = durationSchema(MIN_INTERVAL_MS, MAX_INTERVAL_MS, 'between 10s and 168h');
const graceSchema = durationSchema(0, MAX_GRACE_MS, 'between 0s and 24h');
const nameSchema = z
  .string()
  .trim()
  .min(1, 'must not be empty')
  .max(100, 'must be at most 100 characters')
  .regex(MONITOR_NAME, 'must not contain control characters');
const severitySchema = z.enum(SEVERITIES, { error: `must be one of ${SEVERITIES.join(', ')}` });

const newMonitorSchema = z
  .object({
    teamId: z.string().regex(UUID, 'must be a team id'),
    name: nameSchema,
    interval: intervalSchema,
    grace: graceSchema.optional(),
    severity: severitySchema.optional(),
  })
  .strict();

const monitorChangesSchema = z
  .object({
    name: nameSchema,
    interval: intervalSchema,
    grace: graceSchema,
    severity: severitySchema,
    paused: z.boolean(),
  })
  .partial()
  .strict()
  .refine((changes) => Object.keys(changes).length > 0, {
    message: 'nothing to change: give name, interval, grace, severity or paused',
  });

export interface HeartbeatsDeps {
  db: Database;
  config: Config;
  clock: () => number;
  intake: Pick<AlertIntake, 'receiveAlert'>;
}

/** The monitor id of the path: anything but a UUID names no monitor. */
function monitorIdOf(param: unknown): string {
  return pathId(param, 'heartbeat monitor');
}

/** `POST /api/heartbeats`: 201 with the monitor and its ping URL (shown once). */
export function createMonitorHandler({ db, config }: HeartbeatsDeps): RequestHandler {
  return async (req, res) => {
    const input = parseInput(newMonitorSchema, req.body, 'body');
    try {
      const created = await createMonitor(db, config.publicUrl, {
        teamId: input.teamId,
        name: input.name,
        intervalMs: input.interval,
        graceMs: input.grace ?? DEFAULT_GRACE_MS,
        severity: input.severity ?? 'critical',
      });
      req.log.info({ monitorId: created.id, teamId: created.teamId }, 'heartbeat monitor created');
      res.status(201).json(created);
    } catch (error) {
      if (error instanceof UnknownTeamError) throw new HttpError(400, error.message);
      if (error instanceof MonitorNameTakenError) throw new HttpError(409, error.message);
      throw error;
    }
  };
}

/** `GET /api/heartbeats`: every monitor, or a team's (`?teamId=`). */
export function listMonitorsHandler({ db }: HeartbeatsDeps): RequestHandler {
  return async (req, res) => {
    const { teamId } = parseInput(
      z.object({ teamId: z.string().regex(UUID, 'must be a team id').optional() }).passthrough(),
      req.query,
      'query'
    );
    res.json({ heartbeats: await listMonitors(db, teamId) });
  };
}

/** `GET /api/heartbeats/:id`. */
export function getMonitorHandler({ db }: HeartbeatsDeps): RequestHandler {
  return async (req, res) => {
    const monitor = await getMonitor(db, monitorIdOf(req.params.id));
    if (!monitor) throw new HttpError(404, 'no heartbeat monitor with this id');
    res.json(monitor);
  };
}

/** `PATCH /api/heartbeats/:id`: name, interval, grace, severity, paused. */
export function updateMonitorHandler({ db, clock }: HeartbeatsDeps): RequestHandler {
  return async (req, res) => {
    const id = monitorIdOf(req.params.id);
    const changes = parseInput(monitorChangesSchema, req.body, 'body');
    let monitor;
    try {
      monitor = await updateMonitor(
        db,
        id,
        {
          name: changes.name,
          intervalMs: changes.interval,
          graceMs: changes.grace,
          severity: changes.severity,
          paused: changes.paused,
        },
        new Date(clock())
      );
    } catch (error) {
      if (error instanceof MonitorNameTakenError) throw new HttpError(409, error.message);
      throw error;
    }
    if (!monitor) throw new HttpError(404, 'no heartbeat monitor with this id');
    req.log.info({ monitorId: id, changed: Object.keys(changes) }, 'heartbeat monitor changed');
    res.json(monitor);
  };
}

/** `DELETE /api/heartbeats/:id`: 204; its open alert, if any, is resolved. */
export function deleteMonitorHandler({ db, intake }: HeartbeatsDeps): RequestHandler {
  return async (req, res) => {
    const id = monitorIdOf(req.params.id);
    if (!(await deleteMonitor(db, intake, id))) throw new HttpError(404, 'no heartbeat monitor with this id');
    req.log.info({ monitorId: id }, 'heartbeat monitor deleted');
    res.status(204).end();
  };
}

/**
 * `GET|POST|HEAD /heartbeats/:token`: a ping, answered 204 once recorded. Whatever is sent with it
 * is ignored and never read (an Alertmanager `Watchdog` notification, a cron job's output). An
 * unknown token is 404 and counts as a failed credential, as an endpoint's does.
 */
export function pingHandler({
  db,
  guard,
  clock,
  onResolvePending,
}: {
  db: Database;
  guard: CredentialGuard;
  clock: () => number;
  /** A ping ended an unhealthy spell: the sweeper reports the resolution at once. */
  onResolvePending?: () => void;
}): RequestHandler<{ token: string }> {
  return async (req, res) => {
    const { token } = req.params;
    const tokenHash = hashEndpointToken(token);
    await guard.checkNotBlocked(req, tokenHash);
    const pinged =
      looksLikeToken(token) && !guard.isKnownUnknown(tokenHash)
        ? await recordPing(db, tokenHash, new Date(clock()))
        : null;
    if (!pinged) {
      await guard.recordFailure(req, tokenHash);
      throw new HttpError(404, 'unknown heartbeat token');
    }
    guard.recordSuccess(tokenHash);
    if (pinged.resolvePending) onResolvePending?.();
    res.status(204).end();
  };
}
