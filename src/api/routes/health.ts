/** Probes for orchestrators and load balancers; no authentication, no body. */
import type { Client } from '@temporalio/client';
import { Router } from 'express';
import type { Database } from '../../db/client';
import { healthz, readyz } from '../handlers/health';

export function healthRoutes(deps: { db: Database; temporal: Client }): Router {
  const router = Router();
  router.get('/healthz', healthz);
  router.get('/readyz', readyz(deps));
  return router;
}
