/**
 * One client guessing endpoint tokens as fast as it can while /healthz is asked every 50 ms: after
 * its first failures it is answered 429 without a query, so /healthz should not notice.
 */
import { randomBytes } from 'node:crypto';
import autocannon from 'autocannon';
import { CONCURRENCY, percentile, record, SCALE, startTimedClient, TARGETS, type BenchContext } from '../harness';

/** /healthz asked every 50 ms from a thread of its own, until stopped. */
function probeHealthz(gatewayUrl: string): { stop(): Promise<number[]> } {
  return startTimedClient(
    Array.from({ length: 10_000 }, () => ({ url: `${gatewayUrl}/healthz` })),
    50
  );
}

/** /healthz answer times over `seconds` with nothing else sent. */
async function healthzLatencies(gatewayUrl: string, seconds: number): Promise<number[]> {
  const probe = probeHealthz(gatewayUrl);
  await new Promise((resolve) => setTimeout(resolve, seconds * 1000));
  return probe.stop();
}

/** Random endpoint tokens from one client, 16 connections, while /healthz is probed. */
async function guessingFlood(gatewayUrl: string, seconds: number) {
  const probe = probeHealthz(gatewayUrl);
  const result = await autocannon({
    url: `${gatewayUrl}/webhooks/guess`,
    method: 'POST',
    connections: CONCURRENCY,
    duration: seconds,
    headers: { 'content-type': 'application/json' },
    body: '{"title":"guess"}',
    requests: [
      { setupRequest: (request) => ({ ...request, path: `/webhooks/${randomBytes(32).toString('base64url')}` }) },
    ],
  });
  const healthz = await probe.stop();
  const statusCounts = (result as unknown as { statusCodeStats?: Record<string, { count: number }> }).statusCodeStats;
  return {
    healthzP99: percentile(healthz, 99),
    requests: result.requests.total,
    refused: statusCounts?.['429']?.count ?? 0,
    serverErrors: result['5xx'] + result.errors + result.timeouts,
  };
}

/** Records /healthz's p99 during the flood beside its p99 when idle. */
export async function measureGuessingFlood({ gatewayUrl }: BenchContext): Promise<void> {
  const healthzIdle = await healthzLatencies(gatewayUrl, 2);
  const flood = await guessingFlood(gatewayUrl, SCALE.seconds);
  record({
    name: '/healthz p99 while one client floods guessed endpoint tokens',
    value: Math.round(flood.healthzP99),
    unit: 'ms',
    target: `≤ ${TARGETS.healthzDuringGuessingP99Ms} ms, flood never 5xx`,
    reference: `${Math.round(percentile(healthzIdle, 99))} ms idle, same run`,
    ok: flood.healthzP99 <= TARGETS.healthzDuringGuessingP99Ms && flood.serverErrors === 0,
    mustHold: flood.serverErrors === 0 && flood.refused > 0,
    note: `${flood.requests} guesses, ${flood.refused} answered 429`,
  });
}
