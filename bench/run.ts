/**
 * `npm run bench`: load on the gateway's alert intake, on loopback, against the real stack
 * (embedded PostgreSQL, Temporal dev server, worker, gateway; Slack in dry run). Reports
 * throughput, latency and memory, and fails when a target below is missed.
 *
 * Two loads, each bounded in time: repeats of one open alert (the hot path during an incident:
 * one row update and one signal each) and distinct new alerts (a workflow start each).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import autocannon from 'autocannon';
import { Client, Connection } from '@temporalio/client';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { NativeConnection } from '@temporalio/worker';
import { startGateway } from '../src/api/gateway';
import { createTeam } from '../src/api/services/teams';
import { loadConfig } from '../src/config';
import { createDatabase } from '../src/db/client';
import { migrateDatabase } from '../src/db/migrate';
import { startEmbeddedPostgres } from '../src/infra/embedded-postgres';
import { resolveTemporalBinary } from '../src/infra/temporal-binaries';
import { createLogger } from '../src/logger';
import { alertSearchAttributes } from '../src/workflows/definitions';
import { createAlertWorker } from '../src/worker';

/**
 * What the gateway must sustain on a 2-core machine with everything in one process and the
 * embedded dev server (SQLite) as Temporal; measured there: about 30/s either way, p99 under 1 s.
 * Repeats of one alert are serialised on purpose: the alert's row stays locked while its signal
 * goes to Temporal, so that the count and the signal land together or not at all.
 */
const TARGETS = {
  repeatsPerSecond: 20,
  newAlertsPerSecond: 20,
  p99LatencyMs: 1_500,
  rssMiB: 1_024,
};
const DURATION_S = Number(process.env.BENCH_DURATION_S ?? 10);
const CONNECTIONS = 10;

async function main(): Promise<void> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'escalator-bench-'));
  const log = createLogger({ level: 'warn' });
  const pg = await startEmbeddedPostgres({ dataDir: path.join(dir, 'pg'), database: 'bench', persistent: false });
  const temporalServer = await TestWorkflowEnvironment.createLocal({
    server: {
      executable: await resolveTemporalBinary('cli'),
      ip: '127.0.0.1',
      searchAttributes: Object.values(alertSearchAttributes),
      log: { format: 'pretty', level: 'error' },
    },
  });
  const config = loadConfig({
    DATABASE_URL: pg.databaseUrl,
    TEMPORAL_ADDRESS: temporalServer.address,
    ESCALATION_TIMEOUT: '1h',
    LOG_LEVEL: 'warn',
    PORT: '0',
  });
  await migrateDatabase(pg.databaseUrl);
  const db = createDatabase(pg.databaseUrl);
  const connection = await Connection.connect({ address: temporalServer.address });
  const temporal = new Client({ connection, namespace: config.temporal.namespace });
  const workerConnection = await NativeConnection.connect({ address: temporalServer.address });
  const worker = await createAlertWorker({ connection: workerConnection, config, db, log });
  const workerRun = worker.run();
  const gateway = await startGateway({ config, db, temporal, log }, { port: 0, host: '127.0.0.1' });
  const team = await createTeam(db, gateway.url, { name: 'bench', slackChannelId: 'C0BENCH', engineers: ['U0BENCH'] });
  const url = `${gateway.url}${new URL(team.webhookUrl).pathname}`;

  const failures: string[] = [];
  try {
    const repeats = await load('repeats of one open alert', url, () => ({
      title: 'CPU high on web-1',
      key: 'cpu-web-1',
    }));
    let n = 0;
    const fresh = await load('distinct new alerts', url, () => ({
      title: `Disk full on host-${++n}`,
      key: `disk-${n}`,
    }));
    const rssMiB = process.memoryUsage().rss / 2 ** 20;
    console.log(`\nmemory: rss ${rssMiB.toFixed(0)} MiB (gateway, worker and clients in this process)`);

    check(
      failures,
      repeats.rps >= TARGETS.repeatsPerSecond,
      `repeats ${repeats.rps.toFixed(0)}/s ≥ ${TARGETS.repeatsPerSecond}/s`
    );
    check(
      failures,
      fresh.rps >= TARGETS.newAlertsPerSecond,
      `new alerts ${fresh.rps.toFixed(0)}/s ≥ ${TARGETS.newAlertsPerSecond}/s`
    );
    for (const result of [repeats, fresh]) {
      check(
        failures,
        result.p99 <= TARGETS.p99LatencyMs,
        `${result.name}: p99 ${result.p99} ms ≤ ${TARGETS.p99LatencyMs} ms`
      );
      check(failures, result.errors === 0, `${result.name}: ${result.errors} non-2xx or failed requests = 0`);
    }
    check(failures, rssMiB <= TARGETS.rssMiB, `rss ${rssMiB.toFixed(0)} MiB ≤ ${TARGETS.rssMiB} MiB`);
  } finally {
    await gateway.close();
    worker.shutdown();
    await workerRun;
    await Promise.all([connection.close(), workerConnection.close(), db.$disconnect()]);
    await temporalServer.teardown();
    await pg.stop();
    rmSync(dir, { recursive: true, force: true });
  }
  if (failures.length > 0) {
    console.error(`\nbenchmark targets missed:\n  ${failures.join('\n  ')}`);
    process.exit(1);
  }
  console.log('\nall benchmark targets met');
}

interface LoadResult {
  name: string;
  rps: number;
  p99: number;
  errors: number;
}

async function load(name: string, url: string, body: () => object): Promise<LoadResult> {
  const result = await autocannon({
    url,
    method: 'POST',
    connections: CONNECTIONS,
    duration: DURATION_S,
    headers: { 'content-type': 'application/json' },
    requests: [{ setupRequest: (request) => ({ ...request, body: JSON.stringify(body()) }) }],
  });
  const errors = result.errors + result.timeouts + result.non2xx;
  console.log(
    `${name}: ${result.requests.average.toFixed(0)} req/s, latency p50 ${result.latency.p50} ms, ` +
      `p99 ${result.latency.p99} ms, ${result.requests.total} requests, ${errors} failed`
  );
  return { name, rps: result.requests.average, p99: result.latency.p99, errors };
}

function check(failures: string[], ok: boolean, what: string): void {
  console.log(`${ok ? 'ok  ' : 'MISS'} ${what}`);
  if (!ok) failures.push(what);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
