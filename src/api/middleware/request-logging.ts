/** One log line per request (pino-http), with a request id that is also sent back as X-Request-Id. */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Request, RequestHandler, Response } from 'express';
import { pinoHttp, type HttpLogger } from 'pino-http';
import type { Logger } from '../../logger';
import { UNMATCHED_ROUTE } from '../../observability/metrics';

const ACCEPTABLE_REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/**
 * Where a router is mounted, as a pattern: Express tells a route its path inside its router, and
 * the mount point only as the raw URL (which may be `//webhooks/<token>` or `/api/../webhooks/…`).
 */
export function mountedAt(pattern: string): RequestHandler {
  return (_req, res, next) => {
    res.locals.routePrefix = pattern;
    next();
  };
}

/**
 * The route pattern that answered (`/webhooks/:token`), or `unmatched`. Endpoint tokens travel in
 * URL paths, so a log line names the route, never the path it was reached by.
 */
export function matchedRoute(req: Request, res: Response): string {
  const path: unknown = (req.route as { path?: unknown } | undefined)?.path;
  if (typeof path !== 'string') return UNMATCHED_ROUTE;
  const prefix = typeof res.locals.routePrefix === 'string' ? res.locals.routePrefix : '';
  return `${prefix}${path === '/' && prefix ? '' : path}`;
}

/**
 * Keeps a caller's X-Request-Id when it looks like an id (a proxy's trace id), otherwise makes one,
 * and answers with it so that a user can quote it when reporting a 500.
 */
function requestId(req: IncomingMessage, res: ServerResponse): string {
  const incoming = req.headers['x-request-id'];
  const id = typeof incoming === 'string' && ACCEPTABLE_REQUEST_ID.test(incoming) ? incoming : randomUUID();
  res.setHeader('X-Request-Id', id);
  return id;
}

/** pino-http over the process logger: method, matched route, status and duration of each request. */
export function requestLogging(log: Logger): HttpLogger {
  return pinoHttp({
    logger: log,
    genReqId: requestId,
    autoLogging: { ignore: (req) => req.url === '/healthz' || req.url === '/readyz' },
    customSuccessObject: (req, res, fields: object) => ({
      ...fields,
      route: matchedRoute(req as Request, res as Response),
    }),
    customErrorObject: (req, res, _error, fields: object) => ({
      ...fields,
      route: matchedRoute(req as Request, res as Response),
    }),
    // A guessing client's 429s are counted in metrics and announced once by the credential guard:
    // one line each would let a flood fill the log.
    customLogLevel: (_req, res, error) =>
      error || res.statusCode >= 500 ? 'error' : res.statusCode === 429 ? 'debug' : 'info',
    serializers: {
      // Only what helps to follow a request: headers carry bearer tokens and Slack signatures.
      // Bound when the request arrives, before routing: so no URL here; the route is added at the end.
      req: (req: { id: unknown; method: string; headers: Record<string, unknown> }) => ({
        id: req.id,
        method: req.method,
        userAgent: req.headers['user-agent'],
      }),
      res: (res: { statusCode: number }) => ({ statusCode: res.statusCode }),
    },
  });
}
