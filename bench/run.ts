/**
 * `npm run bench`: `npm start` as a child process (worker and gateway in one Node process, its
 * embedded Temporal dev server beside it) over a PostgreSQL this bench starts, with a local Slack
 * stand-in, on loopback, under the loads an outage produces. The load comes from this process, so
 * the product's memory and CPU are measured on its own processes only. Each figure is printed beside its target and, where there is one, beside a
 * reference measured in the same run on the same servers (raw workflow starts, bare inserts).
 * Results go to bench/results/ as JSON and markdown, with machine, commit and date; a full run then
 * renders its table into README.md and docs/performance.md (bench/report.ts).
 *
 * Each scenario is a file of bench/scenarios/, run in the order below; bench/harness.ts holds what
 * they share.
 *
 * BENCH_SMOKE=1 runs every scenario at a small scale and checks only that nothing failed (CI).
 * BENCH_SOAK_S sets the memory soak (600 s for the 10-minute figure; 60 s by default).
 * BENCH_NODE_OPTIONS is given to the product's Node as NODE_OPTIONS (e.g. `--cpu-prof --cpu-prof-dir=/tmp/prof`).
 * BENCH_ONLY=lifecycle measures the CPU per lifecycle alone (while working on it) and writes no results.
 * BENCH_ONLY=openloop runs only the open loop with button presses beside it, likewise.
 * BENCH_ONLY=storm and BENCH_ONLY=oncall run only that scenario, likewise.
 * BENCH_ONLY=heartbeats runs only the heartbeat monitors (BENCH_HEARTBEAT_MONITORS, BENCH_HEARTBEAT_S,
 * BENCH_HEARTBEAT_RATE set its scale) and writes its figures to bench/results/heartbeats.json and .md.
 */
import { execSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { createDatabase } from '../src/db/client';
import { startEmbeddedPostgres } from '../src/infra/embedded-postgres';
import { findFreePort } from '../src/infra/free-port';
import { startFakeSlack, type FakeSlackMessage } from '../test/helpers/fake-slack';
import { readProcess } from '../test/helpers/processes';
import {
  failures,
  figures,
  nodeProcessOf,
  productCpuByPart,
  rssMiBOf,
  SMOKE,
  totalCpu,
  type BenchContext,
} from './harness';
import { startProduct, stopOnExit } from './product';
import { renderReport } from './report';
import { measureAlertmanagerGroup } from './scenarios/alertmanager-group';
import { measureClosedLoops } from './scenarios/closed-loop';
import { measureGuessingFlood } from './scenarios/guessing-flood';
import { measureHeartbeats } from './scenarios/heartbeats';
import { measureLifecycles } from './scenarios/lifecycle';
import { measureMemorySoak } from './scenarios/memory-soak';
import { measureOnCall } from './scenarios/oncall';
import { measureOpenLoopWithPresses, warmUpForOpenLoop } from './scenarios/open-loop';
import { measureReferences } from './scenarios/references';
import { measureStormUntilIdle } from './scenarios/storm';

const ONLY_LIFECYCLES = process.env.BENCH_ONLY === 'lifecycle';
const ONLY_OPEN_LOOP = process.env.BENCH_ONLY === 'openloop';
const ONLY_STORM = process.env.BENCH_ONLY === 'storm';
const ONLY_ONCALL = process.env.BENCH_ONLY === 'oncall';
const ONLY_HEARTBEATS = process.env.BENCH_ONLY === 'heartbeats';

/** The postmaster's pid, from the first line of its pid file. */
function readPostmasterPid(dataDir: string): number | undefined {
  try {
    const pid = Number(readFileSync(path.join(dataDir, 'postmaster.pid'), 'utf8').split('\n')[0]);
    return readProcess(pid) ? pid : undefined;
  } catch {
    return undefined;
  }
}

const teardown = stopOnExit();

async function main(): Promise<void> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'escalator-bench-'));
  teardown.add('the bench directory', () => rmSync(dir, { recursive: true, force: true }));
  const slack = await startFakeSlack({ token: 'xoxb-bench' });
  teardown.add('the Slack stand-in', () => slack.close());
  const postgres = await startEmbeddedPostgres({ dataDir: path.join(dir, 'pg'), database: 'bench', persistent: false });
  teardown.add('PostgreSQL', () => postgres.stop());
  const postgresPid = readPostmasterPid(postgres.clusterDir);
  const signingSecret = randomUUID();
  const adminToken = randomUUID();
  const port = await findFreePort();
  const gatewayUrl = `http://127.0.0.1:${port}`;
  const { product, temporalAddress } = await startProduct(
    {
      ESCALATOR_DATA_DIR: path.join(dir, 'data'),
      DATABASE_URL: postgres.databaseUrl,
      PORT: String(port),
      TEMPORAL_UI_PORT: String(await findFreePort()),
      SLACK_BOT_TOKEN: 'xoxb-bench',
      SLACK_API_URL: slack.url,
      SLACK_SIGNING_SECRET: signingSecret,
      ADMIN_TOKEN: adminToken,
      ESCALATION_TIMEOUT: '1h',
      LOG_LEVEL: 'warn',
      ...(process.env.BENCH_NODE_OPTIONS ? { NODE_OPTIONS: process.env.BENCH_NODE_OPTIONS } : {}),
    },
    gatewayUrl,
    { teardown }
  );
  const productNode = nodeProcessOf(product);
  const escalator = { gatewayUrl };
  const db = createDatabase(postgres.databaseUrl);
  teardown.add('the database client', () => db.$disconnect());
  const connection = await Connection.connect({ address: temporalAddress });
  const temporal = new Client({ connection });
  const admin = { Authorization: `Bearer ${adminToken}`, 'Content-Type': 'application/json' };
  const cpuByPart = () => productCpuByPart(product, postgresPid);
  const cpuSecondsOfTree = () => totalCpu(cpuByPart());
  const rssMiB = () => rssMiBOf(productNode);

  async function newTeam(name: string) {
    const channel = `C${randomUUID().replace(/-/g, '').slice(0, 10).toUpperCase()}`;
    const response = await fetch(`${escalator.gatewayUrl}/api/teams`, {
      method: 'POST',
      headers: admin,
      body: JSON.stringify({
        name: `${name}-${randomUUID().slice(0, 6)}`,
        slackChannelId: channel,
        engineers: ['U0BENCH1', 'U0BENCH2'],
      }),
    });
    const body = (await response.json()) as { id: string; webhookUrl: string };
    return { id: body.id, channel, url: `${escalator.gatewayUrl}${new URL(body.webhookUrl).pathname}` };
  }

  /** The channel's top-level message about `title` once it satisfies `ready` (the bench's Slack stand-in is in this process). */
  async function messageShowing(
    channel: string,
    title: string,
    ready: (message: FakeSlackMessage) => boolean
  ): Promise<FakeSlackMessage> {
    const deadline = Date.now() + 60_000;
    for (;;) {
      const message = slack.messages(channel).find((m) => !m.threadTs && m.text?.includes(title));
      if (message && ready(message)) return message;
      if (Date.now() > deadline) throw new Error(`No message about "${title}" in ${channel} after 60 s`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  async function allDispatched(): Promise<void> {
    for (;;) {
      const waiting = await db.intakeEntry.count({ where: { dispatchedAt: null, partition: { lt: 100 } } });
      if (waiting === 0) return;
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }

  const bench: BenchContext = {
    gatewayUrl: escalator.gatewayUrl,
    signingSecret,
    adminToken,
    slack,
    databaseUrl: postgres.databaseUrl,
    db,
    temporal,
    admin,
    newTeam,
    messageShowing,
    allDispatched,
    cpuByPart,
    cpuSecondsOfTree,
    rssMiB,
  };

  try {
    if (ONLY_OPEN_LOOP) {
      await warmUpForOpenLoop(bench);
      await measureOpenLoopWithPresses(bench);
      return;
    }
    if (ONLY_STORM) {
      await measureStormUntilIdle(bench);
      return;
    }
    if (ONLY_ONCALL) {
      await measureOnCall(bench);
      return;
    }
    if (ONLY_HEARTBEATS) {
      await measureHeartbeats(bench);
    } else {
      const references = await measureReferences(bench);
      // Whole lifecycles first, while nothing else runs.
      await measureLifecycles(bench);
      if (ONLY_LIFECYCLES) return;
      // While the product is quiet: its figures are a few milliseconds each.
      await measureOnCall(bench);
      await measureClosedLoops(bench, references);
      const openLoopCpu = await measureOpenLoopWithPresses(bench);
      await measureAlertmanagerGroup(bench, openLoopCpu);
      // Before the guessing flood, which leaves the bench's own address refused for a while.
      await measureStormUntilIdle(bench);
      // Before the guessing flood too: a blocked address would have its pings refused.
      await measureHeartbeats(bench);
      await measureGuessingFlood(bench);
      await measureMemorySoak(bench);
    }
  } catch (error) {
    // Said before anything is closed: calls still in flight would fail on a closed connection.
    console.error('benchmark failed:', error);
    failures.push(`the run failed: ${(error as Error).message}`);
  } finally {
    // The Temporal connection is left to process.exit: closed under a call still retrying, it throws from a timer.
    await teardown.run();
  }
  if (ONLY_HEARTBEATS) writeResults('heartbeats');
  if (!process.env.BENCH_ONLY) {
    writeResults();
    // A full run's figures go into the tables of README.md and docs/performance.md (a smoke run's stay in smoke.json).
    if (!SMOKE) {
      const rendered = renderReport();
      if (rendered.length > 0) console.log(`tables: ${rendered.join(', ')}`);
    }
  }
  if (failures.length > 0) {
    console.error(`\nbenchmark targets missed:\n  ${failures.join('\n  ')}`);
    process.exit(1);
  }
  console.log(SMOKE ? '\nsmoke run: every scenario ran' : '\nall benchmark targets met');
  process.exit(0);
}

/** Writes the figures as JSON and markdown; `only` names a run of one scenario (its own files, no tables rendered). */
function writeResults(only?: string): void {
  const resultsDir = path.join(__dirname, 'results');
  mkdirSync(resultsDir, { recursive: true });
  const commit = (() => {
    try {
      return execSync('git rev-parse --short HEAD', { encoding: 'utf8' }).trim();
    } catch {
      return 'unknown';
    }
  })();
  const machine = `${os.cpus().length} × ${os.cpus()[0]?.model ?? 'cpu'}, ${Math.round(os.totalmem() / 2 ** 30)} GiB, ${os.platform()} ${os.release()}, Node ${process.version}`;
  const date = new Date().toISOString();
  const kind = only ?? (SMOKE ? 'smoke' : 'full');
  const base = path.join(resultsDir, only ?? (SMOKE ? 'smoke' : 'latest'));
  writeFileSync(`${base}.json`, `${JSON.stringify({ date, commit, machine, kind, figures }, null, 2)}\n`);
  const rows = figures.map(
    (f) =>
      `| ${f.name} | ${f.value} ${f.unit} | ${f.target ?? ''} | ${f.reference ?? ''} | ${f.ok === undefined ? '' : f.ok ? 'met' : '**missed**'} | ${f.note ?? ''} |`
  );
  writeFileSync(
    `${base}.md`,
    [
      `# Benchmark (${kind}), ${date}`,
      '',
      `Commit ${commit}; ${machine}. \`npm start\` as a child process (gateway and worker in one Node process, its dev server beside it) over a PostgreSQL of the bench's own, with a local Slack stand-in; the load comes from the bench's process.`,
      '',
      '| figure | measured | target | reference, same run | | notes |',
      '| --- | --- | --- | --- | --- | --- |',
      ...rows,
      '',
    ].join('\n')
  );
  console.log(`\nresults: ${path.relative(process.cwd(), base)}.json and .md`);
}

main().catch(async (error: unknown) => {
  console.error(error);
  await teardown.run();
  process.exit(1);
});
