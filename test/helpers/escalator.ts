/**
 * The whole product for end-to-end tests: the real gateway listening on a loopback port and a real
 * worker, over the run's Temporal dev server and PostgreSQL, talking to the Slack stand-in.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { Client, Connection } from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';
import type pino from 'pino';
import type { GatewayDeps } from '../../src/api/app';
import { startGateway, type RunningGateway } from '../../src/api/gateway';
import { loadConfig, type Config } from '../../src/config';
import { createDatabase, type Database } from '../../src/db/client';
import { createLogger } from '../../src/logger';
import { createMetrics, type Metrics } from '../../src/observability/metrics';
import { createAlertWorker } from '../../src/worker';
import { startFakeSlack, type FakeSlack, type FakeSlackOptions } from './fake-slack';
import { signedInteraction, blockActionsPayload, type ButtonPress } from './slack-requests';

export interface RunningTestEscalator {
  url: string;
  config: Config;
  slack: FakeSlack;
  db: Database;
  temporal: Client;
  metrics: Metrics;
  adminAuth: { Authorization: string };
  /** POSTs JSON to a gateway path and returns status and parsed body. */
  post(
    path: string,
    body: unknown,
    headers?: Record<string, string>
  ): Promise<{ status: number; body: any; headers: Record<string, string> }>;
  get(path: string, headers?: Record<string, string>): Promise<{ status: number; body: any }>;
  /**
   * Presses a button on an alert message as Slack would deliver it (signed form body), from the
   * alert's team channel unless `channelId` says otherwise.
   */
  press(
    press: Omit<ButtonPress, 'responseUrl' | 'channelId'> & { responseUrl?: string; channelId?: string }
  ): Promise<number>;
  /** Creates a team with a random name and channel through the admin API. */
  createTeam(options?: NewTestTeam): Promise<TestTeam>;
  /** Runs the gateway's heartbeat sweeper once, now (it also runs every 250 ms on its own). */
  sweepHeartbeats(): Promise<number>;
  stop(): Promise<void>;
}

export interface NewTestTeam {
  /** Start of the random team name, to tell teams apart in logs. */
  prefix?: string;
  engineers?: string[];
  escalationTimeout?: string;
}

export interface TestTeam {
  id: string;
  name: string;
  channel: string;
  token: string;
  webhookPath: string;
  snsPath: string;
}

export interface TestEscalatorOptions {
  /** The Slack stand-in enforces Slack's rate limits (storm tests); off by default. */
  slackPace?: FakeSlackOptions['pace'];
  /** Where gateway and worker write their log lines (stdout by default); tests capture them here. */
  logDestination?: pino.DestinationStream;
  /**
   * Gateway seams for tests: an SNS verifier with the test certificate, a recording subscription
   * confirmer, a clock that tests move (heartbeat deadlines).
   */
  gateway?: Pick<GatewayDeps, 'snsVerifier' | 'snsSubscriptionConfirmer' | 'clock'>;
}

/** Starts gateway and worker with `env` on top of test defaults (unique task queue, fresh secrets). */
export async function startTestEscalator(
  env: Record<string, string> = {},
  options: TestEscalatorOptions = {}
): Promise<RunningTestEscalator> {
  // The stand-in accepts only the bot token the gateway is configured with, as Slack would.
  const slack = await startFakeSlack({ token: env.SLACK_BOT_TOKEN ?? 'xoxb-test', pace: options.slackPace });
  const adminToken = randomBytes(24).toString('base64url');
  const config = loadConfig({
    TEMPORAL_ADDRESS: process.env.TEMPORAL_ADDRESS,
    DATABASE_URL: process.env.DATABASE_URL,
    TEMPORAL_TASK_QUEUE: `e2e-${randomUUID()}`,
    SLACK_API_URL: slack.url,
    SLACK_BOT_TOKEN: 'xoxb-test',
    SLACK_SIGNING_SECRET: randomBytes(16).toString('hex'),
    ADMIN_TOKEN: adminToken,
    PORT: '0',
    LOG_LEVEL: 'warn',
    ...env,
  });
  const log = createLogger({ level: config.logLevel, destination: options.logDestination });
  const db = createDatabase(config.databaseUrl as string);
  const metrics = createMetrics();
  const connection = await Connection.connect({ address: config.temporal.address as string });
  const temporal = new Client({ connection, namespace: config.temporal.namespace });
  const workerConnection = await NativeConnection.connect({ address: config.temporal.address as string });
  const worker = await createAlertWorker({ connection: workerConnection, config, db, log, metrics });
  const workerRun = worker.run();
  let gateway: RunningGateway;
  try {
    gateway = await startGateway(
      { config, db, temporal, log, metrics, ...options.gateway },
      { port: 0, host: '127.0.0.1' }
    );
  } catch (error) {
    worker.shutdown();
    await workerRun;
    throw error;
  }

  const call = async (method: string, path: string, body?: string, headers: Record<string, string> = {}) => {
    const response = await fetch(`${gateway.url}${path}`, { method, body, headers });
    const text = await response.text();
    let parsed: unknown = text;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      // not JSON: keep the text
    }
    return { status: response.status, body: parsed as any, headers: Object.fromEntries(response.headers) };
  };

  return {
    url: gateway.url,
    config,
    slack,
    db,
    temporal,
    metrics,
    adminAuth: { Authorization: `Bearer ${adminToken}` },
    post: (path, body, headers = {}) =>
      call('POST', path, JSON.stringify(body), { 'Content-Type': 'application/json', ...headers }),
    get: (path, headers = {}) => call('GET', path, undefined, headers),
    createTeam: async ({ prefix = 'team', engineers = ['U0ALICE', 'U0BOB'], escalationTimeout } = {}) => {
      const name = `${prefix}-${randomUUID().slice(0, 8)}`;
      const channel = `C${randomUUID().replace(/-/g, '').slice(0, 10).toUpperCase()}`;
      const created = await call(
        'POST',
        '/api/teams',
        JSON.stringify({ name, slackChannelId: channel, engineers, escalationTimeout }),
        { 'Content-Type': 'application/json', Authorization: `Bearer ${adminToken}` }
      );
      if (created.status !== 201)
        throw new Error(`creating team ${name}: ${created.status} ${JSON.stringify(created.body)}`);
      return {
        id: created.body.id,
        name,
        channel,
        token: created.body.token,
        webhookPath: new URL(created.body.webhookUrl as string).pathname,
        snsPath: new URL(created.body.snsUrl as string).pathname,
      };
    },
    sweepHeartbeats: () => gateway.heartbeats.sweepOnce(),
    press: async (press) => {
      const alert = await db.alert.findFirst({
        where: { workflowId: press.workflowId },
        select: { team: { select: { slackChannelId: true } } },
      });
      const channelId = press.channelId ?? alert?.team.slackChannelId ?? 'C0UNKNOWN';
      const request = signedInteraction(
        config.slack.signingSecret as string,
        blockActionsPayload({ responseUrl: slack.responseUrl(), ...press, channelId })
      );
      return (await call('POST', '/slack/interactions', request.body, request.headers)).status;
    },
    stop: async () => {
      await gateway.close();
      worker.shutdown();
      await workerRun;
      await Promise.all([connection.close(), workerConnection.close(), db.$disconnect(), slack.close()]);
    },
  };
}
