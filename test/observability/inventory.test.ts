/**
 * The teams, endpoints and live-alerts gauges read PostgreSQL at scrape time. This file migrates
 * a database of its own on the shared server, so that its counts are exact while other test files
 * add teams to theirs.
 */
import { randomUUID } from 'node:crypto';
import { Client } from 'pg';
import { createDatabase, type Database } from '../../src/db/client';
import { migrateDatabase } from '../../src/db/migrate';
import { databaseInventory } from '../../src/observability/inventory';
import { createMetrics } from '../../src/observability/metrics';

const databaseName = `escalator_inventory_${randomUUID().replace(/-/g, '')}`;
let db: Database;

async function onServer(sql: string): Promise<void> {
  const client = new Client({ connectionString: process.env.DATABASE_URL });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

beforeAll(async () => {
  await onServer(`CREATE DATABASE ${databaseName}`);
  const url = new URL(process.env.DATABASE_URL as string);
  url.pathname = `/${databaseName}`;
  await migrateDatabase(url.toString());
  db = createDatabase(url.toString());
});

afterAll(async () => {
  await db?.$disconnect();
  await onServer(`DROP DATABASE IF EXISTS ${databaseName} WITH (FORCE)`);
});

async function createTeam(name: string, endpoints: number) {
  return db.team.create({
    data: {
      name,
      slackChannelId: 'C0ALERTS',
      endpoints: { create: Array.from({ length: endpoints }, () => ({ tokenHash: randomUUID() })) },
    },
  });
}

async function createAlert(teamId: string, state: 'open' | 'acknowledged' | 'closed' | 'resolved') {
  const fingerprint = randomUUID();
  const live = state === 'open' || state === 'acknowledged';
  await db.alert.create({
    data: {
      teamId,
      workflowId: `alert-${fingerprint}`,
      fingerprint,
      openFingerprint: live ? fingerprint : null,
      source: 'generic',
      title: 'disk full',
      severity: 'critical',
      state,
    },
  });
}

function sample(text: string, series: string): number | undefined {
  const line = text.split('\n').find((candidate) => candidate.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

describe('databaseInventory', () => {
  it('shows the teams, endpoints and unfinished alerts in PostgreSQL at each scrape', async () => {
    const metrics = createMetrics(undefined, { inventory: databaseInventory(db), defaultMetrics: false });
    const empty = await metrics.registry.metrics();

    const ops = await createTeam('ops', 2);
    const payments = await createTeam('payments', 1);
    await createAlert(ops.id, 'open');
    await createAlert(ops.id, 'open');
    await createAlert(ops.id, 'acknowledged');
    await createAlert(ops.id, 'closed');
    await createAlert(payments.id, 'resolved');
    const populated = await metrics.registry.metrics();

    expect(sample(empty, 'escalator_teams_configured')).toBe(0);
    expect(sample(empty, 'escalator_endpoints_configured')).toBe(0);
    expect(sample(populated, 'escalator_teams_configured')).toBe(2);
    expect(sample(populated, 'escalator_endpoints_configured')).toBe(3);
    expect(sample(populated, 'escalator_live_alerts{team="ops",state="open"}')).toBe(2);
    expect(sample(populated, 'escalator_live_alerts{team="ops",state="acknowledged"}')).toBe(1);
    expect(populated).not.toContain('escalator_live_alerts{team="payments"');
    expect(populated).not.toContain('escalator_inventory_errors_total{');
  });
});
