/** Heartbeat pings: the token in the path is the credential; nothing sent with a ping is read. */
import { Router } from 'express';
import type { Database } from '../../db/client';
import { pingHandler } from '../handlers/heartbeats';
import type { CredentialGuard } from '../middleware/credential-guard';

/** `GET /heartbeats/:token` (HEAD too, as Express answers HEAD with the GET route) and `POST`. */
export function heartbeatRoutes(deps: {
  db: Database;
  guard: CredentialGuard;
  clock: () => number;
  onResolvePending?: () => void;
}): Router {
  const router = Router();
  const ping = pingHandler(deps);
  router.get('/:token', ping);
  router.post('/:token', ping);
  return router;
}
