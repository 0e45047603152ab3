/** Sheds intake load early, before a request reads its body or waits for a database connection. */
import type { RequestHandler } from 'express';
import { OverloadedError } from '../../intake/gate';

/** A sender turned away for being one too many is asked to come back this soon. */
const BUSY_RETRY_AFTER_SECONDS = 1;

/**
 * Answers 503 with Retry-After at once while `maxInFlight` requests through it are still being
 * handled. Requests beyond that would only queue for the connection pool and make every sender
 * wait; turned away, they retry (SNS and Alertmanager retry a 5xx) while the rest go through fast,
 * and routes outside it (health checks, button presses) keep answering.
 */
export function shedLoad(maxInFlight: number, onShed?: () => void): RequestHandler {
  let inFlight = 0;
  return (_req, res, next) => {
    if (inFlight >= maxInFlight) {
      onShed?.();
      throw new OverloadedError(
        `the gateway is busy (${maxInFlight} requests in flight), retry later`,
        BUSY_RETRY_AFTER_SECONDS
      );
    }
    inFlight += 1;
    let done = false;
    const release = () => {
      if (done) return;
      done = true;
      inFlight -= 1;
    };
    res.once('finish', release);
    res.once('close', release);
    next();
  };
}
