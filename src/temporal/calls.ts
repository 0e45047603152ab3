/** Calls to the Temporal frontend with a hard time limit, so that a request never waits on an outage. */
import type { Client } from '@temporalio/client';
import { WorkflowNotFoundError } from '@temporalio/common';

/**
 * Temporal could not take a call in time. The gateway answers it with 503, so that the sender
 * retries later; the dispatcher gives its journal partitions up.
 */
export class TemporalUnavailableError extends Error {
  override name = 'TemporalUnavailableError';
}

/** A webhook sender waits 15 s at most (SNS): leave room for the database around the signal. */
export const WEBHOOK_TEMPORAL_TIMEOUT_MS = 8_000;
/** Slack wants an answer to an interaction within 3 s. */
export const INTERACTION_TEMPORAL_TIMEOUT_MS = 1_500;

/** Calls given up on by their timer but still retrying inside the client, per client. */
const callsInFlight = new WeakMap<Client, Set<Promise<unknown>>>();

/**
 * Runs `call` under a gRPC deadline and a timer of the same length. The timer is needed because
 * the client's retry interceptor sleeps between attempts past the deadline (seen: a 2 s deadline
 * against a dead address ended after 3.4 s). `WorkflowNotFoundError` passes through (the caller
 * decides what a closed alert means); any other failure becomes `TemporalUnavailableError`.
 */
export async function callTemporal<T>(
  temporal: Client,
  what: string,
  timeoutMs: number,
  call: () => Promise<T>
): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(
      () => reject(new TemporalUnavailableError(`${what}: no answer within ${timeoutMs} ms`)),
      timeoutMs
    );
  });
  const underlying = temporal.withDeadline(Date.now() + timeoutMs, call);
  track(temporal, underlying);
  try {
    return await Promise.race([underlying, timedOut]);
  } catch (error) {
    if (error instanceof WorkflowNotFoundError || error instanceof TemporalUnavailableError) throw error;
    throw new TemporalUnavailableError(`${what}: ${(error as Error).message}`, { cause: error });
  } finally {
    clearTimeout(timer);
  }
}

function track(temporal: Client, underlying: Promise<unknown>): void {
  let calls = callsInFlight.get(temporal);
  if (!calls) callsInFlight.set(temporal, (calls = new Set()));
  const settled = underlying.then(
    () => undefined,
    () => undefined
  );
  calls.add(settled);
  void settled.then(() => calls.delete(settled));
}

/**
 * Waits until every call made through `callTemporal` on this client has ended, including those
 * whose caller already gave up. Await it before closing the client's connection: the client's
 * retry timer would otherwise fire on a closed channel and throw out of a timer
 * ("Channel has been shut down"), killing the process.
 */
export async function settleTemporalCalls(temporal: Client): Promise<void> {
  await Promise.all([...(callsInFlight.get(temporal) ?? [])]);
}
