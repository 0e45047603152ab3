/**
 * The storm scenario (issue 9): 500 distinct alerts in 10 s to one channel, with the Slack stand-in
 * enforcing Slack's pace and two workers. `runStormScenario` measures against any running stack
 * (the bench runner can call it); `npm run bench:storm` builds one and runs it alone.
 *
 * Figures: seconds until each alert is visible in Slack (its own message, or its line in the
 * digest), share of Slack calls answered 429, alerts lost (neither posted nor listed at the end),
 * posts out of severity order (a post that went while a more severe alert accepted 5 s earlier
 * still waited), and how late the escalations of posted alerts went out against their timer.
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import type { Severity } from '../src/domain/alert';
import { startEmbeddedPostgres } from '../src/infra/embedded-postgres';
import { findFreePort } from '../src/infra/free-port';
import { resolveTemporalBinary } from '../src/infra/temporal-binaries';
import { migrateDatabase } from '../src/db/migrate';
import { alertSearchAttributes } from '../src/workflows/definitions';
import type { FakeSlack } from '../test/helpers/fake-slack';
import { startTestEscalator } from '../test/helpers/escalator';
import { killProcessGroup, runCommand, waitForOutput } from '../test/helpers/processes';
import { stopOnExit, type Teardown } from './product';

export const STORM_TARGETS = { visibleWithinS: 60, rateLimitedShare: 0.05, lost: 0, outOfOrder: 0, escalationLateS: 2 };

export interface StormStack {
  slack: FakeSlack;
  /** POSTs JSON to a gateway path. */
  post(path: string, body: unknown): Promise<{ status: number; headers?: Record<string, string> }>;
  /** Creates a team on `channel` with this escalation timeout; returns its webhook path. */
  createTeam(channel: string, escalationTimeout: string): Promise<string>;
}

export interface StormOptions {
  alerts?: number;
  sendOverS?: number;
  observeS?: number;
  escalationTimeoutS?: number;
}

export interface StormResult {
  alerts: number;
  accepted: number;
  visibleP50S: number;
  visibleMaxS: number;
  notVisibleIn60s: number;
  slackCalls: number;
  rateLimited: number;
  rateLimitedShare: number;
  /** 429s by Slack method. */
  rateLimitedBy: Record<string, number>;
  /** Sends the gateway answered 503 (overloaded) and that were sent again, as a monitoring tool does. */
  resent: number;
  lost: number;
  posted: number;
  outOfOrder: number;
  escalations: number;
  escalationLateP50S: number;
  escalationLateMaxS: number;
}

const RANK: Record<Severity, number> = { critical: 0, error: 1, warning: 2, info: 3 };
const MIX: Severity[] = ['info', 'warning', 'info', 'error', 'warning', 'info', 'critical', 'info', 'warning', 'info'];

export async function runStormScenario(stack: StormStack, options: StormOptions = {}): Promise<StormResult> {
  const total = options.alerts ?? 500;
  const sendOverMs = (options.sendOverS ?? 10) * 1000;
  const observeMs = (options.observeS ?? 90) * 1000;
  const timeoutS = options.escalationTimeoutS ?? 30;
  const channel = `C${randomUUID().replace(/-/g, '').slice(0, 10).toUpperCase()}`;
  const webhook = await stack.createTeam(channel, `${timeoutS}s`);
  const alerts = Array.from({ length: total }, (_, i) => ({
    title: `Storm-${String(i).padStart(4, '0')} disk full on host-${i}`,
    marker: `Storm-${String(i).padStart(4, '0')} `,
    key: `storm-${randomUUID()}`,
    severity: MIX[i % MIX.length] as Severity,
    acceptedAt: 0,
    visibleAt: 0,
    postedAt: 0,
  }));

  const start = Date.now();
  const sends: Promise<void>[] = [];
  let resent = 0;
  /** Sends like Alertmanager or SNS: a 503 (overloaded) is sent again after its Retry-After, for up to a minute. */
  async function send(alert: (typeof alerts)[number]): Promise<void> {
    const giveUpAt = Date.now() + 60_000;
    for (;;) {
      const answer = await stack
        .post(webhook, { title: alert.title, key: alert.key, severity: alert.severity })
        .catch((): { status: number; headers?: Record<string, string> } => ({ status: 0 }));
      if (answer.status === 202) {
        alert.acceptedAt = Date.now();
        return;
      }
      if ((answer.status !== 503 && answer.status !== 0) || Date.now() > giveUpAt) return;
      resent += 1;
      const retryAfterS = Number(answer.headers?.['retry-after'] ?? 1) || 1;
      await new Promise((resolve) => setTimeout(resolve, retryAfterS * 1000));
    }
  }
  for (let i = 0; i < total; i++) {
    const alert = alerts[i]!;
    const due = start + (i * sendOverMs) / total;
    if (due > Date.now()) await new Promise((resolve) => setTimeout(resolve, due - Date.now()));
    sends.push(send(alert));
  }
  await Promise.all(sends);

  // Watch the channel as a person would: each alert's own message, or its line in the digest.
  const until = start + sendOverMs + observeMs;
  while (Date.now() < until) {
    const now = Date.now();
    const messages = stack.slack.messages(channel).filter((m) => !m.threadTs);
    const digest = messages.find((m) => m.text?.startsWith('Alert storm'));
    const digestText = digest ? JSON.stringify(digest.blocks) : '';
    for (const alert of alerts) {
      if (!alert.acceptedAt) continue;
      const own = messages.find((m) => m.text?.includes(alert.marker));
      if (own && !alert.postedAt) alert.postedAt = postTime(stack.slack, channel, alert.marker);
      if (!alert.visibleAt && (own || digestText.includes(alert.marker))) alert.visibleAt = own ? alert.postedAt : now;
    }
    await new Promise((resolve) => setTimeout(resolve, 1_000));
  }

  const accepted = alerts.filter((a) => a.acceptedAt);
  const visibleS = accepted.map((a) => (a.visibleAt ? (a.visibleAt - a.acceptedAt) / 1000 : Infinity));
  const posted = accepted.filter((a) => a.postedAt).sort((a, b) => a.postedAt - b.postedAt);
  const outOfOrder = posted.filter((p) =>
    accepted.some(
      (q) =>
        RANK[q.severity] < RANK[p.severity] &&
        q.acceptedAt < p.postedAt - 5_000 &&
        (!q.postedAt || q.postedAt > p.postedAt)
    )
  ).length;
  // Escalations of posted alerts: the mention in the thread against post time + timeout.
  const late: number[] = [];
  for (const alert of posted) {
    const message = stack.slack.messages(channel).find((m) => !m.threadTs && m.text?.includes(alert.marker));
    const mention = stack.slack
      .calls('chat.postMessage')
      .find((c) => c.outcome === 'ok' && message && c.body.thread_ts === message.ts);
    if (mention) late.push((mention.at - alert.postedAt - timeoutS * 1000) / 1000);
  }
  const counts = stack.slack.counts();
  const rateLimitedBy: Record<string, number> = {};
  for (const call of stack.slack.calls()) {
    if (call.outcome === 'rate_limited') rateLimitedBy[call.method] = (rateLimitedBy[call.method] ?? 0) + 1;
  }
  return {
    alerts: total,
    accepted: accepted.length,
    visibleP50S: quantile(visibleS, 0.5),
    visibleMaxS: Math.max(...visibleS),
    notVisibleIn60s: visibleS.filter((s) => s > 60).length,
    slackCalls: counts.calls,
    rateLimited: counts.rateLimited,
    rateLimitedShare: counts.calls ? counts.rateLimited / counts.calls : 0,
    rateLimitedBy,
    resent,
    lost: total - accepted.filter((a) => a.visibleAt).length,
    posted: posted.length,
    outOfOrder,
    escalations: late.length,
    escalationLateP50S: quantile(late, 0.5),
    escalationLateMaxS: late.length ? Math.max(...late) : 0,
  };
}

/** When Slack accepted the alert's own message (the call that posted it). */
function postTime(slack: FakeSlack, channel: string, marker: string): number {
  const call = slack
    .calls('chat.postMessage')
    .find(
      (c) =>
        c.outcome === 'ok' && c.body.channel === channel && !c.body.thread_ts && String(c.body.text).includes(marker)
    );
  return call?.at ?? Date.now();
}

function quantile(values: number[], q: number): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
}

/** Prints each figure beside its target; returns the misses. */
export function reportStorm(result: StormResult): string[] {
  const misses: string[] = [];
  const check = (ok: boolean, what: string) => {
    console.log(`${ok ? 'ok  ' : 'MISS'} ${what}`);
    if (!ok) misses.push(what);
  };
  console.log(JSON.stringify(result, null, 2));
  check(result.notVisibleIn60s === 0, `alerts not visible within 60 s: ${result.notVisibleIn60s} = 0`);
  check(
    result.rateLimitedShare <= STORM_TARGETS.rateLimitedShare,
    `Slack calls answered 429: ${(result.rateLimitedShare * 100).toFixed(1)}% ≤ 5%`
  );
  check(result.lost === 0, `alerts lost: ${result.lost} = 0`);
  check(result.outOfOrder === 0, `posts out of severity order: ${result.outOfOrder} = 0`);
  check(
    result.escalationLateMaxS <= STORM_TARGETS.escalationLateS,
    `escalations late against their timer: max ${result.escalationLateMaxS.toFixed(2)} s ≤ 2 s (${result.escalations} escalations)`
  );
  return misses;
}

async function main(teardown: Teardown): Promise<void> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'escalator-storm-'));
  teardown.add('the storm directory', () => rmSync(dir, { recursive: true, force: true }));
  const pg = await startEmbeddedPostgres({ dataDir: path.join(dir, 'pg'), database: 'storm', persistent: false });
  teardown.add('PostgreSQL', () => pg.stop());
  const temporal = await TestWorkflowEnvironment.createLocal({
    server: {
      executable: await resolveTemporalBinary('cli'),
      ip: '127.0.0.1',
      searchAttributes: Object.values(alertSearchAttributes),
      log: { format: 'pretty', level: 'error' },
    },
  });
  teardown.add('the Temporal dev server', () => temporal.teardown());
  process.env.DATABASE_URL = pg.databaseUrl;
  process.env.TEMPORAL_ADDRESS = temporal.address;
  await migrateDatabase(pg.databaseUrl);
  const escalator = await startTestEscalator({ LOG_LEVEL: 'error' }, { slackPace: true });
  teardown.add('Escalator', () => escalator.stop());
  const [metricsPort, temporalMetricsPort] = [await findFreePort(), await findFreePort()];
  const secondWorker = runCommand('npm', ['run', 'worker'], {
    TEMPORAL_ADDRESS: temporal.address,
    DATABASE_URL: pg.databaseUrl,
    TEMPORAL_TASK_QUEUE: escalator.config.temporal.taskQueue,
    SLACK_API_URL: escalator.slack.url,
    SLACK_BOT_TOKEN: 'xoxb-test',
    METRICS_PORT: String(metricsPort),
    TEMPORAL_METRICS_PORT: String(temporalMetricsPort),
    LOG_LEVEL: 'info',
  });
  teardown.add('the second worker', () => killProcessGroup(secondWorker));
  let misses: string[] = [];
  try {
    await waitForOutput(secondWorker, '"msg":"worker running"');
    const result = await runStormScenario(
      {
        slack: escalator.slack,
        post: (p, body) => escalator.post(p, body),
        createTeam: async (channel, escalationTimeout) => {
          const created = await escalator.post(
            '/api/teams',
            {
              name: `storm-${randomUUID().slice(0, 8)}`,
              slackChannelId: channel,
              engineers: ['U0ALICE', 'U0BOB'],
              escalationTimeout,
            },
            escalator.adminAuth
          );
          return new URL(created.body.webhookUrl as string).pathname;
        },
      },
      {
        alerts: Number(process.env.STORM_ALERTS ?? 500),
        observeS: Number(process.env.STORM_OBSERVE_S ?? 90),
      }
    );
    misses = reportStorm(result);
  } finally {
    await teardown.run();
  }
  if (misses.length > 0) process.exit(1);
}

if (require.main === module) {
  const teardown = stopOnExit();
  main(teardown).catch(async (error: unknown) => {
    console.error(error);
    await teardown.run();
    process.exit(1);
  });
}
