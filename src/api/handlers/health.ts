/** Liveness and readiness probes. */
import type { Client } from '@temporalio/client';
import type { RequestHandler } from 'express';
import type { Database } from '../../db/client';
import { checkReadiness } from '../services/readiness';

/** `GET /healthz`: 200 while the process runs, whatever its dependencies do. */
export const healthz: RequestHandler = (_req, res) => {
  res.status(200).json({ status: 'ok' });
};

/** `GET /readyz`: 200 when Temporal and PostgreSQL answer; 503 naming the ones that did not. */
export function readyz(deps: { db: Database; temporal: Client }): RequestHandler {
  return async (req, res) => {
    const report = await checkReadiness(deps);
    const describe = (status: typeof report.temporal) => (status.ok ? 'ok' : `unavailable: ${status.error}`);
    const checks = { temporal: describe(report.temporal), database: describe(report.database) };
    if (report.ready) {
      res.status(200).json({ status: 'ready', checks });
      return;
    }
    const failed = (['temporal', 'database'] as const).filter((name) => !report[name].ok);
    req.log.warn({ checks }, 'not ready');
    res.status(503).json({ status: 'unavailable', error: `not ready: ${failed.join(' and ')} did not answer`, checks });
  };
}
