/** Errors the gateway answers with, and the one error middleware that turns them into responses. */
import type { ErrorRequestHandler, RequestHandler } from 'express';
import { OverloadedError } from '../intake/gate';
import type { Logger } from '../logger';
import { TemporalUnavailableError } from '../temporal/calls';

/** A client error whose message is safe to show: it says what was wrong with the request. */
export class HttpError extends Error {
  override name = 'HttpError';
  constructor(
    readonly status: number,
    message: string,
    /** Sent as Retry-After (seconds) with a 429 or 503. */
    readonly retryAfterSeconds?: number
  ) {
    super(message);
  }
}

/** How long a sender is asked to wait when PostgreSQL is out of connections or out of reach. */
const DATABASE_RETRY_AFTER_SECONDS = 2;

/**
 * PostgreSQL could not take the request: no free connection in time, the server out of reach or
 * shutting down, or out of resources. Transient by nature, so the sender is told to retry.
 */
export function isDatabaseUnavailable(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'string') {
    // 08: connection exception; 53: insufficient resources; 57P: operator intervention (shutdown).
    if (/^(08|53|57P)/.test(code) || ['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE'].includes(code)) return true;
  }
  return /timeout exceeded when trying to connect|Connection terminated/i.test(error.message);
}

/** What body-parser attaches to the errors it raises (`entity.too.large`, `encoding.unsupported`, …). */
interface BodyParserError {
  status?: number;
  type?: string;
  expose?: boolean;
  limit?: number;
  message: string;
}

function isBodyParserError(error: unknown): error is BodyParserError {
  return error instanceof Error && typeof (error as BodyParserError).type === 'string' && 'status' in error;
}

/** 404 for any route the gateway does not have. */
export const routeNotFound: RequestHandler = (_req, res) => {
  res.status(404).json({ error: 'Not Found' });
};

/**
 * The one error middleware: client errors say what was wrong, Temporal and PostgreSQL outages and
 * overload answer 503 (with Retry-After where a wait is known), and
 * anything else is a 500 that says only "Internal Server Error" and is logged with the request id
 * (pino-http's child logger carries it; the same id is in the X-Request-Id response header).
 */
export function errorMiddleware(log: Logger): ErrorRequestHandler {
  return (error: unknown, req, res, next) => {
    if (res.headersSent) {
      next(error);
      return;
    }
    const requestLog = (req as { log?: Logger }).log ?? log;
    if (error instanceof HttpError) {
      if (error.retryAfterSeconds !== undefined) res.set('Retry-After', String(error.retryAfterSeconds));
      res.status(error.status).json({ error: error.message });
      return;
    }
    if (error instanceof TemporalUnavailableError) {
      // An error, not a warning: alerts are being turned away until an operator looks (the cause
      // may be an outage or a misconfiguration such as unregistered search attributes).
      requestLog.error({ err: error }, 'Temporal did not take the request');
      res.status(503).json({ error: 'Temporal is unavailable, retry later' });
      return;
    }
    if (error instanceof OverloadedError) {
      requestLog.warn({ err: error }, 'shedding load');
      res.set('Retry-After', String(error.retryAfterSeconds));
      res.status(503).json({ error: error.message });
      return;
    }
    if (isDatabaseUnavailable(error)) {
      requestLog.error({ err: error }, 'PostgreSQL did not take the request');
      res.set('Retry-After', String(DATABASE_RETRY_AFTER_SECONDS));
      res.status(503).json({ error: 'the database is unavailable or busy, retry later' });
      return;
    }
    if (isBodyParserError(error) && error.status !== undefined && error.status >= 400 && error.status < 500) {
      const message =
        error.type === 'entity.too.large'
          ? `body is larger than the limit of ${error.limit ?? 'this route'} bytes`
          : error.expose
            ? error.message
            : 'the request body could not be read';
      res.status(error.status).json({ error: message });
      return;
    }
    requestLog.error({ err: error }, 'request failed');
    res.status(500).json({ error: 'Internal Server Error' });
  };
}
