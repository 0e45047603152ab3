/**
 * The Temporal SDK's exporter, installed with temporalRuntimeTelemetry, serves the metric names
 * the dashboard's worker panels query, in seconds. A worker runs one workflow against the test
 * run's Temporal server in a child process (the SDK's runtime is installed once per process).
 */
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { findFreePort } from '../../src/infra/free-port';
import { queriedSeries } from './dashboard-queries';

const run = promisify(execFile);
const TSX = path.resolve(__dirname, '../../node_modules/.bin/tsx');
const WORKER_SCRIPT = path.resolve(__dirname, 'fixtures/sdk-metrics-worker.ts');
const PAUSE_MS = 400;

let scrape: string;
let outputDir: string;

beforeAll(async () => {
  outputDir = mkdtempSync(path.join(os.tmpdir(), 'escalator-sdk-metrics-'));
  const metricsOut = path.join(outputDir, 'metrics.txt');
  await run(TSX, [WORKER_SCRIPT], {
    env: {
      ...process.env,
      BIND_ADDRESS: `127.0.0.1:${await findFreePort()}`,
      TASK_QUEUE: `observability-sdk-metrics-${randomUUID()}`,
      PAUSE_MS: String(PAUSE_MS),
      METRICS_OUT: metricsOut,
    },
    timeout: 90_000,
  });
  scrape = readFileSync(metricsOut, 'utf8');
}, 100_000);

afterAll(() => rmSync(outputDir, { recursive: true, force: true }));

function sampleValue(series: RegExp): number | undefined {
  const line = scrape.split('\n').find((candidate) => series.test(candidate));
  return line === undefined ? undefined : Number(line.split(' ').pop());
}

describe('temporalRuntimeTelemetry', () => {
  it("exports every Temporal SDK metric the dashboard's worker panels query", () => {
    const exported = new Set(scrape.split('\n').flatMap((line) => /^([a-z_][a-z0-9_]*)[{ ]/.exec(line)?.[1] ?? []));
    const queried = [...queriedSeries()].filter((series) => series.startsWith('temporal_'));

    expect(queried.length).toBeGreaterThanOrEqual(5);
    expect(queried.filter((series) => !exported.has(series))).toEqual([]);
  });

  it('reports activity durations in seconds, as the dashboard panels assume', () => {
    const seconds = sampleValue(/^temporal_activity_execution_latency_sum\{[^}]*activity_type="pause"/);

    expect(seconds).toBeGreaterThanOrEqual(PAUSE_MS / 1000);
    expect(seconds).toBeLessThan(5);
  });
});
