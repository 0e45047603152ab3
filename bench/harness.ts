/**
 * What the scenarios of `npm run bench` share: the scale and the targets, recording a figure beside
 * its target, reading the product's CPU and memory, and clients that time their requests from a
 * thread of their own. The runner (bench/run.ts) starts the product and hands each scenario a
 * BenchContext.
 */
import { readFileSync } from 'node:fs';
import { Worker } from 'node:worker_threads';
import type { Client } from '@temporalio/client';
import type { Database } from '../src/db/client';
import type { FakeSlack, FakeSlackMessage } from '../test/helpers/fake-slack';
import { descendantsOf, type RunningCommand } from '../test/helpers/processes';
import { cpuSecondsOf } from './product';

export const SMOKE = process.env.BENCH_SMOKE === '1';
export const SCALE = SMOKE
  ? { seconds: 2, openLoopCount: 50, openLoopRate: 25, groupSize: 50, soakSeconds: 5, lifecycles: 10 }
  : {
      seconds: Number(process.env.BENCH_DURATION_S ?? 10),
      openLoopCount: 1_000,
      openLoopRate: 100,
      groupSize: 500,
      soakSeconds: Number(process.env.BENCH_SOAK_S ?? 60),
      lifecycles: 100,
    };
export const CONCURRENCY = 16;

/** The targets (issue 7), on this 2-core machine. */
export const TARGETS = {
  openLoopP99Ms: 250,
  newAlertsPerSecond: 100,
  repeatsPerSecond: 300,
  /** Where the raw start rate of the same Temporal server is lower, 0.8 × that rate will do. */
  shareOfRawStartRate: 0.8,
  groupOf500Ms: 2_000,
  pressP99Ms: 100,
  rssMiB: 512,
  /** Half of the 115 ms measured before this intake. */
  cpuPerLifecycleMs: 57,
  /** /healthz while one client floods guessed endpoint tokens (issue 10: it went from 7 ms to 300–650 ms). */
  healthzDuringGuessingP99Ms: 50,
};

export interface Figure {
  name: string;
  value: number;
  unit: string;
  target?: string;
  reference?: string;
  ok?: boolean;
  note?: string;
}

export const figures: Figure[] = [];
export const failures: string[] = [];

/** Records a figure; a missed target fails the run, except in a smoke run, which checks only `mustHold`. */
export function record(figure: Figure & { mustHold?: boolean }): void {
  figures.push(figure);
  const failed = SMOKE ? figure.mustHold === false : figure.ok === false;
  if (failed) failures.push(`${figure.name}: ${figure.value} ${figure.unit} (target ${figure.target ?? 'no errors'})`);
  const mark = figure.ok === undefined ? '    ' : figure.ok ? 'ok  ' : 'MISS';
  console.log(
    `${mark} ${figure.name}: ${figure.value} ${figure.unit}` +
      (figure.target ? `  (target ${figure.target})` : '') +
      (figure.reference ? `  [reference ${figure.reference}]` : '') +
      (figure.note ? `  ${figure.note}` : '')
  );
}

export function percentile(values: number[], p: number): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] as number;
}

/** CPU seconds used by each part of the product: `npm start`'s Node processes, its Temporal dev server, PostgreSQL. */
export interface CpuByPart {
  node: number;
  temporal: number;
  postgres: number;
}

export function productCpuByPart(product: RunningCommand, postgresPid: number | undefined): CpuByPart {
  const parts: CpuByPart = { node: 0, temporal: 0, postgres: 0 };
  for (const { pid, cmdline } of descendantsOf(product.pid)) {
    parts[/start-dev|temporal/.test(cmdline) && !/node/.test(cmdline) ? 'temporal' : 'node'] += cpuSecondsOf(pid);
  }
  if (postgresPid) {
    for (const { pid } of [{ pid: postgresPid }, ...descendantsOf(postgresPid)]) parts.postgres += cpuSecondsOf(pid);
  }
  return parts;
}

export function totalCpu(parts: CpuByPart): number {
  return parts.node + parts.temporal + parts.postgres;
}

/** Where CPU went between two readings, per alert: "Node 40 ms, Temporal 80 ms, PostgreSQL 10 ms". */
export function cpuSplit(before: CpuByPart, after: CpuByPart, count: number): string {
  const ms = (key: keyof CpuByPart) => Math.round(((after[key] - before[key]) * 1000) / count);
  return `Node ${ms('node')} ms, Temporal ${ms('temporal')} ms, PostgreSQL ${ms('postgres')} ms`;
}

/** RSS of the Node process that runs the gateway and the worker. */
export function rssMiBOf(pid: number): number {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    return Math.round(Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0) / 1024);
  } catch {
    return 0;
  }
}

/** The Node process of `npm start` (below npm and sh): the one whose command line runs src/main.ts. */
export function nodeProcessOf(product: RunningCommand): number {
  const node = descendantsOf(product.pid).find((child) => /node .*src\/main\.ts/.test(child.cmdline));
  return node?.pid ?? product.pid;
}

/** One request of a timed client. */
export interface TimedRequest {
  url: string;
  method?: string;
  headers?: Record<string, string>;
  body?: string;
}

/**
 * A client in a worker thread of its own, as a presser or a prober is another machine: sends its
 * requests one after another, `gapMs` apart, until told to stop or out of requests, then posts the
 * answer times (ms) back. In the bench's own thread the load it drives (autocannon, the open loop,
 * the Slack stand-in's answers) would delay each request before it leaves and count as the
 * product's time.
 */
const TIMED_CLIENT = `
const { parentPort, workerData } = require('node:worker_threads');
let stop = false;
parentPort.once('message', () => (stop = true));
(async () => {
  const latencies = [];
  for (const { url, method, headers, body } of workerData.requests) {
    if (stop) break;
    const sentAt = performance.now();
    const answer = await fetch(url, { method, headers, body });
    await answer.arrayBuffer();
    latencies.push(performance.now() - sentAt);
    await new Promise((resolve) => setTimeout(resolve, workerData.gapMs));
  }
  parentPort.postMessage(latencies);
  parentPort.close();
})();
`;

/** Starts a timed client; `stop()` resolves with its answer times. */
export function startTimedClient(requests: TimedRequest[], gapMs: number): { stop(): Promise<number[]> } {
  const client = new Worker(TIMED_CLIENT, { eval: true, workerData: { requests, gapMs } });
  const latencies = new Promise<number[]>((resolve, reject) => {
    client.once('message', resolve);
    client.once('error', reject);
  });
  return {
    stop() {
      client.postMessage('stop');
      return latencies;
    },
  };
}

/** Runs `work(i)` for i < count, at most `limit` at a time. */
export async function mapConcurrently(count: number, limit: number, work: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, count) }, async () => {
      while (next < count) await work(next++);
    })
  );
}

/** A team made for one scenario: its id, its channel and its webhook URL. */
export interface BenchTeam {
  id: string;
  channel: string;
  url: string;
}

/** The running product and the bench's handles on it, as the runner gives them to each scenario. */
export interface BenchContext {
  /** `http://127.0.0.1:<port>` of `npm start`'s gateway. */
  gatewayUrl: string;
  signingSecret: string;
  /** ADMIN_TOKEN of the product: the admin API's bearer. */
  adminToken: string;
  /** The Slack stand-in, in the bench's own process. */
  slack: FakeSlack;
  databaseUrl: string;
  db: Database;
  temporal: Client;
  /** Headers for the admin API: the bearer and a JSON content type. */
  admin: Record<string, string>;
  /** A new team through the admin API, with a channel of its own. */
  newTeam: (name: string) => Promise<BenchTeam>;
  /** The channel's top-level message about `title` once it satisfies `ready`. */
  messageShowing: (
    channel: string,
    title: string,
    ready: (message: FakeSlackMessage) => boolean
  ) => Promise<FakeSlackMessage>;
  /** Resolves once every intake journal entry has been taken to Temporal. */
  allDispatched: () => Promise<void>;
  cpuByPart: () => CpuByPart;
  cpuSecondsOfTree: () => number;
  /** RSS of the Node process that runs the gateway and the worker. */
  rssMiB: () => number;
}
