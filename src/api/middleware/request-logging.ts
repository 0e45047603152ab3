/** One log line per request (pino-http), with a request id that is also sent back as X-Request-Id. */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { pinoHttp, type HttpLogger } from 'pino-http';
import type { Logger } from '../../logger';

const ACCEPTABLE_REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/**
 * Endpoint tokens travel in the URL path: a log line must never hold one. Case-insensitive, as
 * Express routes are: `/Webhooks/<token>` reaches the same handler.
 */
export function redactTokensInUrl(url: string): string {
  return (
    url
      .replace(/^\/(webhooks|sns)\/[^/?#]+/i, '/$1/[redacted]')
      // The one-time OAuth code of /slack/oauth_redirect is a credential until exchanged.
      .replace(/([?&]code=)[^&#]*/i, '$1[redacted]')
  );
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

/** pino-http over the process logger: method, redacted URL, status and duration of each request. */
export function requestLogging(log: Logger): HttpLogger {
  return pinoHttp({
    logger: log,
    genReqId: requestId,
    autoLogging: { ignore: (req) => req.url === '/healthz' || req.url === '/readyz' },
    customLogLevel: (_req, res, error) => (error || res.statusCode >= 500 ? 'error' : 'info'),
    serializers: {
      // Only what helps to follow a request: headers carry bearer tokens and Slack signatures.
      req: (req: { id: unknown; method: string; url: string; headers: Record<string, unknown> }) => ({
        id: req.id,
        method: req.method,
        url: redactTokensInUrl(req.url),
        userAgent: req.headers['user-agent'],
      }),
      res: (res: { statusCode: number }) => ({ statusCode: res.statusCode }),
    },
  });
}
