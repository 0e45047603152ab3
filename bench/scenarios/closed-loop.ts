/** Closed loops: 16 senders as fast as answers come, with new alerts, then with repeats of one alert. */
import autocannon from 'autocannon';
import { CONCURRENCY, record, SCALE, TARGETS, type BenchContext } from '../harness';

async function closedLoop(url: string, body: () => object, seconds: number) {
  const result = await autocannon({
    url,
    method: 'POST',
    connections: CONCURRENCY,
    duration: seconds,
    headers: { 'content-type': 'application/json' },
    requests: [{ setupRequest: (request) => ({ ...request, body: JSON.stringify(body()) }) }],
  });
  return {
    rate: Math.round(result.requests.total / seconds),
    p50: result.latency.p50,
    p99: result.latency.p99,
    errors: result.errors + result.timeouts + result.non2xx,
  };
}

/** Records both rates against targets drawn from the references of the same run. */
export async function measureClosedLoops(
  { newTeam, allDispatched }: BenchContext,
  { rawStarts, bareInserts }: { rawStarts: number; bareInserts: number }
): Promise<void> {
  const fresh = await newTeam('fresh');
  let n = 0;
  const newAlerts = await closedLoop(
    fresh.url,
    () => ({ title: `Disk full on host-${++n}`, key: `disk-${n}` }),
    SCALE.seconds
  );
  const newAlertTarget = Math.min(TARGETS.newAlertsPerSecond, Math.round(TARGETS.shareOfRawStartRate * rawStarts));
  record({
    name: 'new alerts, 16 concurrent senders',
    value: newAlerts.rate,
    unit: '/s',
    target: `≥ ${newAlertTarget}/s (min of 100/s and 0.8 × raw starts)`,
    reference: `${rawStarts}/s raw starts`,
    ok: newAlerts.rate >= newAlertTarget && newAlerts.errors === 0,
    mustHold: newAlerts.errors === 0,
    note: `p50 ${newAlerts.p50} ms, p99 ${newAlerts.p99} ms, ${newAlerts.errors} errors`,
  });
  const repeatTeam = await newTeam('repeats');
  const repeats = await closedLoop(
    repeatTeam.url,
    () => ({ title: 'CPU high on web-1', key: 'cpu-web-1' }),
    SCALE.seconds
  );
  const repeatTarget = Math.min(TARGETS.repeatsPerSecond, Math.round(TARGETS.shareOfRawStartRate * bareInserts));
  record({
    name: 'repeats of one alert, 16 concurrent senders',
    value: repeats.rate,
    unit: '/s',
    target: `≥ ${repeatTarget}/s`,
    reference: `${bareInserts}/s bare inserts`,
    ok: repeats.rate >= repeatTarget && repeats.errors === 0,
    mustHold: repeats.errors === 0,
    note: `p50 ${repeats.p50} ms, p99 ${repeats.p99} ms, ${repeats.errors} errors`,
  });
  await allDispatched();
}
