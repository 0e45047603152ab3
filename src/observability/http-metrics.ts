/** Express side of the metrics: request latency by route pattern, and the `GET /metrics` handler. */
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import type { Registry } from 'prom-client';
import { UNMATCHED_ROUTE, type Metrics } from './metrics';

/**
 * Records `escalator_http_request_duration_seconds{method,route,status}` for every request. Mount
 * it first, before any router, so it times the whole request.
 *
 * The route label is the Express route pattern that answered (`/webhooks/:token`), never the URL:
 * endpoint tokens travel in URLs, and a label keeps them forever in Prometheus. Requests that no
 * route answered (404s, or middleware refusing before routing) are `unmatched`. A route in a
 * mounted router is labelled by its path inside that router: Express knows the mount point only as
 * the raw URL, so it is left out on purpose. A response the client abandoned is `status="aborted"`.
 */
export function httpMetricsMiddleware(metrics: Pick<Metrics, 'httpRequestDuration'>): RequestHandler {
  return (req: Request, res: Response, next: NextFunction) => {
    const endTimer = metrics.httpRequestDuration.startTimer();
    // 'close' fires for finished and abandoned responses alike; 'finish' alone misses the latter.
    res.once('close', () => {
      endTimer({
        method: req.method,
        route: routePattern(req),
        status: res.writableFinished ? String(res.statusCode) : 'aborted',
      });
    });
    next();
  };
}

function routePattern(req: Request): string {
  // Express 5 types route as `any`; its path is a string pattern, or an array/RegExp when declared so.
  const path: unknown = (req.route as { path?: unknown } | undefined)?.path;
  const patterns = (Array.isArray(path) ? path : [path]).filter(
    (pattern): pattern is string | RegExp => typeof pattern === 'string' || pattern instanceof RegExp
  );
  return patterns.length === 0 ? UNMATCHED_ROUTE : patterns.map(String).join('|');
}

/** `GET /metrics`: the registry in Prometheus text format, with the registry's own content type. */
export function metricsHandler(registry: Registry): RequestHandler {
  return async (_req: Request, res: Response, next: NextFunction) => {
    try {
      const body = await registry.metrics();
      res.set('Content-Type', registry.contentType).send(body);
    } catch (error) {
      next(error);
    }
  };
}
