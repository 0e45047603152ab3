/**
 * The Slack app's business metrics on /metrics: installations, and teams, alerts and escalations
 * per workspace, read from a real PostgreSQL at scrape time.
 */
import { createDatabase, type Database } from '../../src/db/client';
import { migrateDatabase } from '../../src/db/migrate';
import { createMetrics } from '../../src/observability/metrics';
import { databaseSlackAppInventory } from '../../src/observability/slack-app-metrics';
import { createFreshDatabase, type FreshDatabase } from '../db/fresh-database';

let fresh: FreshDatabase;
let db: Database;

beforeAll(async () => {
  fresh = await createFreshDatabase('escalator_slack_metrics');
  await migrateDatabase(fresh.url);
  db = createDatabase(fresh.url);
});

afterAll(async () => {
  await db?.$disconnect();
  await fresh?.drop();
});

async function alertWithEscalations(teamId: string, state: 'open' | 'closed', escalations: number) {
  const alert = await db.alert.create({
    data: {
      teamId,
      workflowId: `alert/${teamId}/${Math.random()}`,
      fingerprint: String(Math.random()),
      source: 'generic',
      title: 'Disk full',
      severity: 'critical',
      state,
    },
  });
  for (let i = 0; i < escalations; i += 1) {
    await db.alertEvent.create({
      data: { alertId: alert.id, key: `${alert.id}/esc/${i}`, type: 'escalated', message: 'escalated' },
    });
  }
}

test('installations, and teams, alerts and escalations per workspace, as a scrape shows them', async () => {
  const acme = await db.slackInstallation.create({ data: { slackTeamId: 'TACME', sealedInstallation: '{}' } });
  await db.slackInstallation.create({ data: { slackTeamId: 'TGONE', sealedInstallation: null } });
  const ops = await db.team.create({ data: { name: 'acme-ops', slackChannelId: 'C1', installationId: acme.id } });
  await db.team.create({
    data: { name: 'acme-db', slackChannelId: 'C2', installationId: acme.id, pausedAt: new Date() },
  });
  const legacy = await db.team.create({ data: { name: 'legacy', slackChannelId: 'C3' } });
  await alertWithEscalations(ops.id, 'open', 2);
  await alertWithEscalations(ops.id, 'closed', 1);
  await alertWithEscalations(legacy.id, 'open', 0);
  const { registry } = createMetrics(undefined, { slackApp: databaseSlackAppInventory(db), defaultMetrics: false });

  const text = await registry.metrics();

  expect(text).toContain('escalator_slack_installations{state="active"} 1');
  expect(text).toContain('escalator_slack_installations{state="uninstalled"} 1');
  expect(text).toContain('escalator_workspace_teams{workspace="TACME",paused="false"} 1');
  expect(text).toContain('escalator_workspace_teams{workspace="TACME",paused="true"} 1');
  expect(text).toContain('escalator_workspace_teams{workspace="single-workspace",paused="false"} 1');
  expect(text).toContain('escalator_workspace_alerts{workspace="TACME",state="open"} 1');
  expect(text).toContain('escalator_workspace_alerts{workspace="TACME",state="closed"} 1');
  expect(text).toContain('escalator_workspace_alerts{workspace="single-workspace",state="open"} 1');
  expect(text).toContain('escalator_workspace_escalations{workspace="TACME"} 3');
});
