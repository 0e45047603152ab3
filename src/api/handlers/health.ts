/** Liveness and readiness probes. */
import type { Client } from '@temporalio/client';
import type { RequestHandler } from 'express';
import type { Database } from '../../db/client';
import { MIGRATE_COMMAND } from '../../db/schema-status';
import { checkReadiness } from '../services/readiness';

/** `GET /healthz`: 200 while the process runs, whatever its dependencies do. */
export const healthz: RequestHandler = (_req, res) => {
  res.status(200).json({ status: 'ok' });
};

/** `GET /readyz`: 200 when Temporal and PostgreSQL answer and the schema is migrated; 503 saying what is not. */
export function readyz(deps: { db: Database; temporal: Client }): RequestHandler {
  return async (req, res) => {
    const report = await checkReadiness(deps);
    const describe = (status: typeof report.temporal) => (status.ok ? 'ok' : `unavailable: ${status.error}`);
    const checks = { temporal: describe(report.temporal), database: describe(report.database) };
    if (report.ready) {
      res.status(200).json({ status: 'ready', checks });
      return;
    }
    const silent = (['temporal', 'database'] as const).filter((name) => {
      const status = report[name];
      return !status.ok && !status.notMigrated;
    });
    const reasons = [
      ...(silent.length > 0 ? [`${silent.join(' and ')} did not answer`] : []),
      ...(!report.database.ok && report.database.notMigrated
        ? [`the database is not migrated: run ${MIGRATE_COMMAND}`]
        : []),
    ];
    req.log.warn({ checks }, 'not ready');
    res.status(503).json({ status: 'unavailable', error: `not ready: ${reasons.join('; ')}`, checks });
  };
}
