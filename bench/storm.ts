/**
 * The storm figures (issues 9 and 29): STORM_ALERTS new alerts (20,000) sent over STORM_SEND_S
 * seconds (60) to one channel, or spread over STORM_CHANNELS channels, through the gateway, with
 * the Slack stand-in enforcing Slack's pace and two workers. `npm run bench:storm` builds the stack
 * and runs it alone.
 *
 * Figures: alerts lost (neither posted nor counted in their channel's digest at the end); seconds
 * until each alert is counted in its channel's digest or posted; seconds until each critical alert
 * has its own message; the longest pause in a channel's posts while alerts still waited; the share
 * of Slack calls answered 429; how soon a new alert to a quiet channel is posted during the storm;
 * the processes' memory over the run; and, once a person pressed Close all in every digest and the
 * stack went idle again, CPU per alert.
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
import { descendantsOf, killProcessGroup, runCommand, waitForOutput } from '../test/helpers/processes';
import { sqlPoolOf } from '../src/db/client';
import { rssMiBOf } from './harness';
import { cpuSecondsOf, stopOnExit, type Teardown } from './product';

export const STORM_TARGETS = {
  lost: 0,
  countedWithinS: 10,
  criticalPostedWithinS: 60,
  postingPauseS: 5,
  rateLimitedShare: 0.05,
  quietChannelPostedWithinS: 2,
  cpuPerAlertMs: 20,
};

export interface StormStack {
  slack: FakeSlack;
  /** POSTs JSON to a gateway path. */
  post(path: string, body: unknown): Promise<{ status: number; headers?: Record<string, string> }>;
  /** Creates a team on `channel` with this escalation timeout; returns its webhook path. */
  createTeam(channel: string, escalationTimeout: string): Promise<string>;
  /** Presses a digest button in `channel` as a person would. */
  pressDigestButton(channel: string, action: 'storm_ack' | 'storm_close', value: string): Promise<void>;
  /** Open or acknowledged alerts of `channel`'s teams. */
  openAlerts(channel: string): Promise<number>;
  /** CPU seconds of every process of the stack, by part; and their resident memory (MiB). */
  cpu(): Record<string, number>;
  rssMiB(): Record<string, number>;
}

export interface StormOptions {
  alerts?: number;
  sendOverS?: number;
  channels?: number;
  /** After the last send, how long to watch before closing the storms. */
  observeS?: number;
}

export interface StormResult {
  alerts: number;
  channels: number;
  accepted: number;
  resent: number;
  lost: number;
  countedP50S: number;
  countedMaxS: number;
  criticals: number;
  criticalPostedMaxS: number;
  posted: number;
  longestPostingPauseS: number;
  slackCalls: number;
  rateLimited: number;
  rateLimitedShare: number;
  rateLimitedBy: Record<string, number>;
  quietChannelPostedMaxS: number;
  rssMiB: { start: Record<string, number>; peak: Record<string, number>; end: Record<string, number> };
  idleAfterS: number;
  cpuPerAlertMs: number;
  cpuPerAlertByPartMs: Record<string, number>;
}

/** Requests in flight at once: 16 senders with a few connections each. */
const SENDERS = 64;

/** A storm is mostly warnings and info; a few criticals, each of which must get its own message at once. */
function severityOf(i: number): Severity {
  if (i % 1_000 === 7) return 'critical';
  return (['warning', 'info', 'error', 'warning', 'info', 'info', 'warning', 'info', 'error', 'warning'] as const)[
    i % 10
  ] as Severity;
}

export async function runStormScenario(stack: StormStack, options: StormOptions = {}): Promise<StormResult> {
  const total = options.alerts ?? 20_000;
  const sendOverMs = (options.sendOverS ?? 60) * 1000;
  const channelCount = options.channels ?? 1;
  const observeMs = (options.observeS ?? 60) * 1000;
  const channels = Array.from(
    { length: channelCount },
    () => `C${randomUUID().replace(/-/g, '').slice(0, 10).toUpperCase()}`
  );
  const webhooks = await Promise.all(channels.map((channel) => stack.createTeam(channel, '1h')));
  const quietChannel = `C${randomUUID().replace(/-/g, '').slice(0, 10).toUpperCase()}`;
  const quietWebhook = await stack.createTeam(quietChannel, '1h');
  const alerts = Array.from({ length: total }, (_, i) => ({
    channel: i % channelCount,
    title: `Storm-${String(i).padStart(5, '0')} disk full on host-${i}`,
    marker: `Storm-${String(i).padStart(5, '0')} `,
    key: `storm-${randomUUID()}`,
    severity: severityOf(i),
    acceptedAt: 0,
    countedAt: 0,
    postedAt: 0,
  }));

  const cpuBefore = stack.cpu();
  const rssStart = stack.rssMiB();
  const rssPeak = { ...rssStart };
  const start = Date.now();
  let resent = 0;
  const acceptedOrder: Array<Array<(typeof alerts)[number]>> = channels.map(() => []);
  /** Sends like Alertmanager or SNS: a 503 (overloaded) is sent again after its Retry-After, for up to ten minutes. */
  // At most SENDERS requests in flight, as a few monitoring tools' connections carry them.
  let inFlight = 0;
  const slotFreed: Array<() => void> = [];
  async function post(alert: (typeof alerts)[number]): Promise<{ status: number; headers?: Record<string, string> }> {
    while (inFlight >= SENDERS) await new Promise<void>((resolve) => slotFreed.push(resolve));
    inFlight += 1;
    try {
      return await stack
        .post(webhooks[alert.channel] as string, { title: alert.title, key: alert.key, severity: alert.severity })
        .catch((): { status: number; headers?: Record<string, string> } => ({ status: 0 }));
    } finally {
      inFlight -= 1;
      slotFreed.shift()?.();
    }
  }
  async function send(alert: (typeof alerts)[number]): Promise<void> {
    const giveUpAt = Date.now() + 600_000;
    for (;;) {
      const answer = await post(alert);
      if (answer.status === 202) {
        alert.acceptedAt = Date.now();
        acceptedOrder[alert.channel]!.push(alert);
        return;
      }
      if ((answer.status !== 503 && answer.status !== 0) || Date.now() > giveUpAt) return;
      resent += 1;
      const retryAfterS = Number(answer.headers?.['retry-after'] ?? 1) || 1;
      await new Promise((resolve) => setTimeout(resolve, retryAfterS * 1000));
    }
  }

  // A new critical alert to a quiet channel every 10 s while the storm runs: posted at once?
  const quietLatencies: number[] = [];
  let probing = true;
  const quietProbe = (async () => {
    for (let n = 0; probing; n++) {
      await new Promise((resolve) => setTimeout(resolve, 10_000));
      if (!probing) break;
      const title = `Quiet-${n} payment API down`;
      const sentAt = Date.now();
      if ((await stack.post(quietWebhook, { title, severity: 'critical' })).status !== 202) continue;
      for (;;) {
        const call = stack.slack
          .calls('chat.postMessage')
          .find((c) => c.outcome === 'ok' && c.body.channel === quietChannel && String(c.body.text).includes(title));
        if (call) {
          quietLatencies.push((call.at - sentAt) / 1000);
          break;
        }
        if (Date.now() - sentAt > 60_000) {
          quietLatencies.push(Infinity);
          break;
        }
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    }
  })();

  const sends: Promise<void>[] = [];
  let sendsDone = false;
  const sending = (async () => {
    for (let i = 0; i < total; i++) {
      const due = start + (i * sendOverMs) / total;
      if (due > Date.now()) await new Promise((resolve) => setTimeout(resolve, due - Date.now()));
      sends.push(send(alerts[i]!));
    }
    await Promise.all(sends);
    sendsDone = true;
  })();

  // Watch each channel as a person would: each alert's own message, or its count in the digest.
  const byMarker = new Map(alerts.map((alert) => [alert.marker, alert]));
  const seenPosts = new Set<string>();
  const lastPostAt = channels.map(() => 0);
  let longestPause = 0;
  const observeUntil = () => (sendsDone ? Date.now() < sendsFinishedAt + observeMs : true);
  let sendsFinishedAt = 0;
  while (observeUntil()) {
    if (sendsDone && !sendsFinishedAt) sendsFinishedAt = Date.now();
    const now = Date.now();
    for (const [c, channel] of channels.entries()) {
      const messages = stack.slack.messages(channel).filter((m) => !m.threadTs);
      let digestTotal = 0;
      let waiting = 0;
      for (const message of messages) {
        if (message.text?.startsWith('Alert storm')) {
          digestTotal = Number(/(\d+) alerts?/.exec(message.text)?.[1] ?? 0);
          waiting = Number(/(\d+) waiting to be posted/.exec(message.text)?.[1] ?? 0);
          continue;
        }
        if (seenPosts.has(message.ts)) continue;
        seenPosts.add(message.ts);
        const alert = byMarker.get(message.text?.match(/Storm-\d{5} /)?.[0] ?? '');
        if (alert && !alert.postedAt) alert.postedAt = now;
        lastPostAt[c] = now;
      }
      if (waiting > 0 && lastPostAt[c]) longestPause = Math.max(longestPause, (now - lastPostAt[c]) / 1000);
      // The digest counts the channel's alerts since its storm began: the first `digestTotal` of
      // those accepted after the ones posted before it.
      const order = acceptedOrder[c] as Array<(typeof alerts)[number]>;
      const before = order.findIndex((alert) => !alert.postedAt);
      for (let k = 0; k < order.length; k++) {
        const alert = order[k]!;
        if (alert.countedAt) continue;
        if (alert.postedAt || (before >= 0 && k - before < digestTotal)) alert.countedAt = now;
      }
    }
    const rss = stack.rssMiB();
    for (const [part, mib] of Object.entries(rss)) rssPeak[part] = Math.max(rssPeak[part] ?? 0, mib);
    await new Promise((resolve) => setTimeout(resolve, 1_000));
  }
  probing = false;
  await Promise.all([sending, quietProbe]);

  // A person closes every storm from its digest; the stack is then counted until idle.
  for (const channel of channels) {
    const digest = stack.slack.messages(channel).find((m) => !m.threadTs && m.text?.startsWith('Alert storm'));
    const value = JSON.stringify(digest?.blocks ?? []).match(/"value":"(storm\/[^"]+)"/)?.[1];
    if (value) await stack.pressDigestButton(channel, 'storm_close', value);
  }
  const closeDeadline = Date.now() + 1_800_000;
  for (const channel of channels) {
    while ((await stack.openAlerts(channel)) > 0 && Date.now() < closeDeadline) {
      await new Promise((resolve) => setTimeout(resolve, 2_000));
    }
  }
  for (;;) {
    const before = Object.values(stack.cpu()).reduce((a, b) => a + b, 0);
    await new Promise((resolve) => setTimeout(resolve, 5_000));
    const used = Object.values(stack.cpu()).reduce((a, b) => a + b, 0) - before;
    if (used < 0.25 || Date.now() > closeDeadline) break; // under 5 % of a core: idle
  }
  const idleAfterS = (Date.now() - start) / 1000;
  const cpuAfter = stack.cpu();
  const cpuPerAlertByPartMs: Record<string, number> = {};
  for (const part of Object.keys(cpuAfter)) {
    cpuPerAlertByPartMs[part] = Math.round((((cpuAfter[part] ?? 0) - (cpuBefore[part] ?? 0)) * 1000 * 10) / total) / 10;
  }

  const accepted = alerts.filter((a) => a.acceptedAt);
  const counted = accepted.map((a) => (a.countedAt ? (a.countedAt - a.acceptedAt) / 1000 : Infinity));
  const criticals = accepted.filter((a) => a.severity === 'critical');
  const counts = stack.slack.counts();
  const rateLimitedBy: Record<string, number> = {};
  for (const call of stack.slack.calls()) {
    if (call.outcome === 'rate_limited') rateLimitedBy[call.method] = (rateLimitedBy[call.method] ?? 0) + 1;
  }
  return {
    alerts: total,
    channels: channelCount,
    accepted: accepted.length,
    resent,
    lost: total - accepted.filter((a) => a.countedAt).length,
    countedP50S: quantile(counted, 0.5),
    countedMaxS: Math.max(...counted),
    criticals: criticals.length,
    criticalPostedMaxS: Math.max(
      0,
      ...criticals.map((a) => (a.postedAt ? (a.postedAt - a.acceptedAt) / 1000 : Infinity))
    ),
    posted: accepted.filter((a) => a.postedAt).length,
    longestPostingPauseS: longestPause,
    slackCalls: counts.calls,
    rateLimited: counts.rateLimited,
    rateLimitedShare: counts.calls ? counts.rateLimited / counts.calls : 0,
    rateLimitedBy,
    quietChannelPostedMaxS: Math.max(0, ...quietLatencies),
    rssMiB: { start: rssStart, peak: rssPeak, end: stack.rssMiB() },
    idleAfterS,
    cpuPerAlertMs: Object.values(cpuPerAlertByPartMs).reduce((a, b) => a + b, 0),
    cpuPerAlertByPartMs,
  };
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
  const t = STORM_TARGETS;
  check(result.lost === t.lost, `alerts lost: ${result.lost} = 0`);
  check(
    result.countedMaxS <= t.countedWithinS,
    `every alert counted in its digest or posted: max ${result.countedMaxS.toFixed(1)} s ≤ ${t.countedWithinS} s`
  );
  check(
    result.criticalPostedMaxS <= t.criticalPostedWithinS,
    `every critical alert in its own message: max ${result.criticalPostedMaxS.toFixed(1)} s ≤ ${t.criticalPostedWithinS} s (${result.criticals})`
  );
  check(
    result.longestPostingPauseS <= t.postingPauseS,
    `longest pause in posting while alerts waited: ${result.longestPostingPauseS.toFixed(1)} s ≤ ${t.postingPauseS} s`
  );
  check(
    result.rateLimitedShare <= t.rateLimitedShare,
    `Slack calls answered 429: ${(result.rateLimitedShare * 100).toFixed(1)}% ≤ 5%`
  );
  check(
    result.quietChannelPostedMaxS <= t.quietChannelPostedWithinS,
    `a new alert to a quiet channel posted: max ${result.quietChannelPostedMaxS.toFixed(1)} s ≤ ${t.quietChannelPostedWithinS} s`
  );
  check(
    result.cpuPerAlertMs <= t.cpuPerAlertMs,
    `CPU per alert until idle: ${result.cpuPerAlertMs.toFixed(1)} ms ≤ ${t.cpuPerAlertMs} ms`
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
    const cpuOfTree = (): Record<string, number> => {
      const parts: Record<string, number> = {
        'gateway + worker (bench process)': process.cpuUsage().user / 1e6 + process.cpuUsage().system / 1e6,
      };
      for (const { pid, cmdline } of descendantsOf(process.pid)) {
        const part = /start-dev/.test(cmdline)
          ? 'Temporal dev server'
          : /postgres/.test(cmdline)
            ? 'PostgreSQL'
            : /worker\.ts/.test(cmdline)
              ? 'second worker'
              : undefined;
        if (part) parts[part] = (parts[part] ?? 0) + cpuSecondsOf(pid);
      }
      return parts;
    };
    const rssOfTree = (): Record<string, number> => {
      const parts: Record<string, number> = { 'bench process': Math.round(process.memoryUsage().rss / 2 ** 20) };
      for (const { pid, cmdline } of descendantsOf(process.pid)) {
        const part = /start-dev/.test(cmdline)
          ? 'Temporal dev server'
          : /worker\.ts/.test(cmdline)
            ? 'second worker'
            : undefined;
        if (part) parts[part] = (parts[part] ?? 0) + rssMiBOf(pid);
      }
      return parts;
    };
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
        pressDigestButton: async (channel, action, value) => {
          await escalator.press({ action, workflowId: value, userId: 'U0ALICE', channelId: channel });
        },
        openAlerts: async (channel) => {
          const { rows } = await sqlPoolOf(escalator.db).query<{ open: string }>(
            `SELECT count(*) AS open FROM alerts a JOIN teams t ON t.id = a.team_id
              WHERE t.slack_channel_id = $1 AND a.state IN ('open', 'acknowledged')`,
            [channel]
          );
          return Number(rows[0]?.open);
        },
        cpu: cpuOfTree,
        rssMiB: rssOfTree,
      },
      {
        alerts: Number(process.env.STORM_ALERTS ?? 20_000),
        sendOverS: Number(process.env.STORM_SEND_S ?? 60),
        channels: Number(process.env.STORM_CHANNELS ?? 1),
        observeS: Number(process.env.STORM_OBSERVE_S ?? 60),
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
