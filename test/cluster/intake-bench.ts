/**
 * The bench's intake scenario (bench/run.ts: repeats of one open alert, then distinct new alerts,
 * 10 connections, 10 s each) against the cluster's two gateways at once, half the connections on
 * each, as behind a load balancer. `npm run test:cluster -- --bench` runs it after the checks and
 * writes the figures to bench/results/.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import autocannon from 'autocannon';
import { PROJECT_ROOT } from '../../src/infra/temporal-binaries';

const DURATION_S = Number(process.env.BENCH_DURATION_S ?? 10);
const CONNECTIONS = 10;

export interface IntakeFigures {
  name: string;
  requestsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  requests: number;
  failed: number;
}

async function loadOn(urls: string[], name: string, body: () => object): Promise<IntakeFigures> {
  const runs = await Promise.all(
    urls.map((url) =>
      autocannon({
        url,
        method: 'POST',
        connections: CONNECTIONS / urls.length,
        duration: DURATION_S,
        headers: { 'content-type': 'application/json' },
        requests: [{ setupRequest: (request) => ({ ...request, body: JSON.stringify(body()) }) }],
      })
    )
  );
  return {
    name,
    requestsPerSecond: Math.round(runs.reduce((sum, run) => sum + run.requests.average, 0)),
    // Per-gateway percentiles cannot be merged exactly: the worse of the two is reported.
    p50Ms: Math.max(...runs.map((run) => run.latency.p50)),
    p99Ms: Math.max(...runs.map((run) => run.latency.p99)),
    requests: runs.reduce((sum, run) => sum + run.requests.total, 0),
    failed: runs.reduce((sum, run) => sum + run.errors + run.timeouts + run.non2xx, 0),
  };
}

/** Runs both loads on `webhookUrls` (one per gateway) and writes bench/results/cluster-intake-<date>.json. */
export async function benchIntake(
  webhookUrls: string[],
  topology: string
): Promise<{ figures: IntakeFigures[]; file: string }> {
  const repeats = await loadOn(webhookUrls, 'repeats of one open alert', () => ({
    title: 'CPU high on web-1',
    key: 'cpu-web-1',
  }));
  let n = 0;
  const fresh = await loadOn(webhookUrls, 'distinct new alerts', () => {
    n += 1;
    return { title: `Disk full on host-${n}`, key: `disk-${n}` };
  });
  const figures = [repeats, fresh];
  const dir = path.join(PROJECT_ROOT, 'bench', 'results');
  mkdirSync(dir, { recursive: true });
  const date = new Date().toISOString();
  const file = path.join(dir, `cluster-intake-${date.slice(0, 10)}.json`);
  writeFileSync(
    file,
    `${JSON.stringify(
      {
        scenario: 'intake (bench/run.ts loads) on the production topology of npm run test:cluster',
        topology,
        date,
        machine: { cpus: os.cpus().length, cpu: os.cpus()[0]?.model, memoryGiB: Math.round(os.totalmem() / 2 ** 30) },
        durationSeconds: DURATION_S,
        connections: CONNECTIONS,
        figures,
      },
      null,
      2
    )}\n`
  );
  return { figures, file };
}
