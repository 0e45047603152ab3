/**
 * The real gateway app for tests, over the run's PostgreSQL (DATABASE_URL) and Temporal dev server
 * (TEMPORAL_ADDRESS), with its own task queue so that no test worker picks up its workflows.
 *
 *   const gateway = createTestGateway();
 *   await request(gateway.app).post('/api/teams').set(gateway.adminAuth)…
 *   await gateway.close();
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { Writable } from 'node:stream';
import { Client, Connection } from '@temporalio/client';
import type { Express } from 'express';
import request from 'supertest';
import { createApp, type GatewayDeps } from '../../src/api/app';
import type { SlackResponder } from '../../src/api/services/slack-actions';
import { loadConfig, type Config } from '../../src/config';
import { createDatabase, type Database } from '../../src/db/client';
import { startDispatcher } from '../../src/intake/dispatcher';
import { createLogger } from '../../src/logger';
import type { Metrics } from '../../src/observability/metrics';
import { settleTemporalCalls } from '../../src/temporal/calls';
import { waitFor } from './wait';

export interface TestGatewayOptions {
  /** Environment variables on top of the test defaults; `undefined` unsets one. */
  env?: Record<string, string | undefined>;
  /** A Temporal address other than the test server's (a closed port, to play an outage). */
  temporalAddress?: string;
  /** A database URL other than the test database's. */
  databaseUrl?: string;
  clock?: () => number;
  slackResponder?: SlackResponder;
  metrics?: Metrics;
  /** SNS seams: a verifier that fetches the test certificate, a subscription confirmer that records. */
  snsVerifier?: GatewayDeps['snsVerifier'];
  snsSubscriptionConfirmer?: GatewayDeps['snsSubscriptionConfirmer'];
  /** A dry run's outbox: the local Slack preview (/preview) is served with it. */
  dryRunOutbox?: GatewayDeps['dryRunOutbox'];
}

export interface TestGateway {
  app: Express;
  config: Config;
  db: Database;
  temporal: Client;
  adminToken: string;
  /** `Authorization` header with the admin token, for `.set(...)`. */
  adminAuth: { Authorization: string };
  signingSecret: string;
  /** Every log line the app wrote, parsed. */
  logLines(): Array<Record<string, unknown>>;
  /** Resolves once every intake journal entry of `workflowId` has reached Temporal. */
  dispatched(workflowId: string): Promise<void>;
  close(): Promise<void>;
}

/** Builds the app with fresh secrets and a unique task queue; close() releases its clients. */
export function createTestGateway(options: TestGatewayOptions = {}): TestGateway {
  const adminToken = randomBytes(24).toString('base64url');
  const signingSecret = randomBytes(16).toString('hex');
  const databaseUrl = options.databaseUrl ?? requiredEnv('DATABASE_URL');
  const config = loadConfig(
    withoutUndefined({
      ADMIN_TOKEN: adminToken,
      SLACK_SIGNING_SECRET: signingSecret,
      TEMPORAL_ADDRESS: options.temporalAddress ?? requiredEnv('TEMPORAL_ADDRESS'),
      TEMPORAL_TASK_QUEUE: `gateway-test-${randomUUID()}`,
      DATABASE_URL: databaseUrl,
      PUBLIC_URL: 'https://escalator.example.com',
      LOG_LEVEL: 'debug',
      ...options.env,
    })
  );
  const lines: string[] = [];
  const log = createLogger({
    level: 'debug',
    destination: new Writable({
      write(chunk: Buffer, _encoding, done) {
        lines.push(...chunk.toString('utf8').split('\n').filter(Boolean));
        done();
      },
    }),
  });
  const db = createDatabase(databaseUrl);
  // Lazy: an app pointed at a dead address must still be built, as a gateway starting during an outage is.
  const connection = Connection.lazy({ address: config.temporal.address as string });
  const temporal = new Client({ connection, namespace: config.temporal.namespace });
  const app = createApp({
    config,
    db,
    temporal,
    log,
    clock: options.clock,
    slackResponder: options.slackResponder,
    metrics: options.metrics,
    snsVerifier: options.snsVerifier,
    snsSubscriptionConfirmer: options.snsSubscriptionConfirmer,
    dryRunOutbox: options.dryRunOutbox,
  });
  // As in a running gateway: what the app takes reaches Temporal through the intake dispatcher.
  const dispatcher = startDispatcher({ db, temporal, log });
  return {
    app,
    config,
    db,
    temporal,
    adminToken,
    adminAuth: { Authorization: `Bearer ${adminToken}` },
    signingSecret,
    logLines: () => lines.map((line) => JSON.parse(line) as Record<string, unknown>),
    dispatched: (workflowId) => journalDispatched(db, workflowId),
    async close() {
      await dispatcher.close();
      await settleTemporalCalls(temporal);
      await Promise.all([connection.close(), db.$disconnect()]);
    },
  };
}

/** Waits until the intake dispatcher has handed every journal entry of `workflowId` to Temporal. */
export async function journalDispatched(db: Database, workflowId: string): Promise<void> {
  await waitFor(`the journal entries of ${workflowId} to reach Temporal`, async () => {
    const waiting = await db.intakeEntry.count({ where: { workflowId, dispatchedAt: null } });
    return waiting === 0;
  });
}

export interface RegisteredTeam {
  id: string;
  name: string;
  token: string;
  webhookUrl: string;
  snsUrl: string;
  engineers: string[];
  slackChannelId: string;
}

/** A random team name: the database is shared by every test file of the run. */
export function randomTeamName(prefix = 'team'): string {
  return `${prefix}-${randomUUID().slice(0, 8)}`;
}

/** Registers a team with random name and ids through the admin API, as an operator would. */
export async function registerTeam(
  gateway: TestGateway,
  overrides: Partial<{ name: string; engineers: string[]; slackChannelId: string; escalationTimeout: string }> = {}
): Promise<RegisteredTeam> {
  const body = {
    name: overrides.name ?? randomTeamName(),
    slackChannelId: overrides.slackChannelId ?? `C${randomSlackSuffix()}`,
    engineers: overrides.engineers ?? [`U${randomSlackSuffix()}`, `U${randomSlackSuffix()}`],
    ...(overrides.escalationTimeout ? { escalationTimeout: overrides.escalationTimeout } : {}),
  };
  const response = await request(gateway.app).post('/api/teams').set(gateway.adminAuth).send(body).expect(201);
  return { ...(response.body as Omit<RegisteredTeam, 'engineers' | 'slackChannelId'>), ...body };
}

/** Upper-case letters and digits, as in Slack ids. */
export function randomSlackSuffix(): string {
  return randomBytes(6).toString('hex').toUpperCase();
}

/** A loopback port that nothing listens on: connections to it are refused at once. */
export const CLOSED_PORT_ADDRESS = '127.0.0.1:1';

function requiredEnv(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set: run the tests through jest (test/global-setup.ts)`);
  return value;
}

function withoutUndefined(env: Record<string, string | undefined>): Record<string, string> {
  return Object.fromEntries(Object.entries(env).filter((entry): entry is [string, string] => entry[1] !== undefined));
}
