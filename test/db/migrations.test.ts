/**
 * The migrations under prisma/migrations and prisma/schema.prisma must describe the same tables:
 * the app's queries come from the schema, the production tables from the migrations. This applies
 * the migrations to an empty database and drives every model through the generated client.
 */
import { createHash, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Client } from 'pg';
import { createDatabase, Prisma, type Database } from '../../src/db/client';
import { MIGRATIONS_DIR, migrateDatabase, readMigrations } from '../../src/db/migrate';
import { createFreshDatabase, type FreshDatabase } from './fresh-database';

let fresh: FreshDatabase;
let databaseUrl: string;
let db: Database;

async function query<T extends object>(sql: string, values: unknown[] = []): Promise<T[]> {
  const client = new Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    return (await client.query<T>(sql, values)).rows;
  } finally {
    await client.end();
  }
}

/** Timestamps as the columns keep them (millisecond precision), so a round trip compares equal. */
function at(iso: string): Date {
  return new Date(iso);
}

/** Prisma's P2002: the database refused a row that breaks a unique constraint. */
async function expectUniqueViolation(write: Promise<unknown>): Promise<void> {
  const error = await write.then(
    () => undefined,
    (reason: unknown) => reason
  );
  expect(error).toBeInstanceOf(Prisma.PrismaClientKnownRequestError);
  expect(error).toMatchObject({ code: 'P2002' });
}

beforeAll(async () => {
  fresh = await createFreshDatabase('escalator_migrations');
  databaseUrl = fresh.url;
  db = createDatabase(databaseUrl);
});

afterAll(async () => {
  await db?.$disconnect();
  await fresh?.drop();
});

describe('on a freshly created database', () => {
  test('applies every migration and records it in _prisma_migrations as Prisma does', async () => {
    const names = readMigrations().map((migration) => migration.name);
    expect(names.length).toBeGreaterThan(0);

    const result = await migrateDatabase(databaseUrl);

    expect(result).toEqual({ applied: names, alreadyApplied: [] });
    const columns = await query<{ column_name: string; data_type: string; is_nullable: string }>(
      `SELECT column_name, data_type, is_nullable FROM information_schema.columns
        WHERE table_name = '_prisma_migrations' ORDER BY column_name`
    );
    expect(columns).toEqual([
      { column_name: 'applied_steps_count', data_type: 'integer', is_nullable: 'NO' },
      { column_name: 'checksum', data_type: 'character varying', is_nullable: 'NO' },
      { column_name: 'finished_at', data_type: 'timestamp with time zone', is_nullable: 'YES' },
      { column_name: 'id', data_type: 'character varying', is_nullable: 'NO' },
      { column_name: 'logs', data_type: 'text', is_nullable: 'YES' },
      { column_name: 'migration_name', data_type: 'character varying', is_nullable: 'NO' },
      { column_name: 'rolled_back_at', data_type: 'timestamp with time zone', is_nullable: 'YES' },
      { column_name: 'started_at', data_type: 'timestamp with time zone', is_nullable: 'NO' },
    ]);
    const rows = await query<{
      migration_name: string;
      checksum: string;
      finished_at: Date | null;
      rolled_back_at: Date | null;
      applied_steps_count: number;
    }>('SELECT migration_name, checksum, finished_at, rolled_back_at, applied_steps_count FROM "_prisma_migrations"');
    expect(rows.map((row) => row.migration_name).sort()).toEqual(names);
    for (const row of rows) {
      // Prisma's checksum: SHA-256 of migration.sql's bytes, hex. A mismatch makes `prisma migrate
      // status` report the migration as modified after it was applied.
      const sql = readFileSync(path.join(MIGRATIONS_DIR, row.migration_name, 'migration.sql'));
      expect(row.checksum).toBe(createHash('sha256').update(sql).digest('hex'));
      expect(row.finished_at).toBeInstanceOf(Date);
      expect(row.rolled_back_at).toBeNull();
      expect(row.applied_steps_count).toBe(1);
    }
  });

  test('a second run applies nothing', async () => {
    const before = await query<{ id: string }>('SELECT id FROM "_prisma_migrations" ORDER BY id');

    const result = await migrateDatabase(databaseUrl);

    expect(result.applied).toEqual([]);
    expect(result.alreadyApplied).toEqual(readMigrations().map((migration) => migration.name));
    expect(await query<{ id: string }>('SELECT id FROM "_prisma_migrations" ORDER BY id')).toEqual(before);
  });

  test('writes and reads back every model with every field set', async () => {
    const installation = await db.slackInstallation.create({ data: { slackTeamId: 'T0PAYMENTS' } });
    const team = {
      id: '0b5c1a52-6a8e-4c47-9d0c-1f0f6f0b7a11',
      name: 'payments',
      workflowName: 'payments.T0PAYMENTS',
      slackChannelId: 'C0PAYMENTS',
      escalationTimeoutMs: 120_000,
      createdAt: at('2026-01-02T03:04:05.678Z'),
      installationId: installation.id,
      pausedAt: at('2026-01-02T03:04:06.789Z'),
      // The schedule link is written and read in the on-call tables' test below.
      scheduleId: null,
      skipAway: true,
      archivedAt: at('2026-01-03T04:05:06.789Z'),
    };
    const engineer = {
      id: '1c1d2e3f-4a5b-4c6d-8e7f-8091a2b3c4d5',
      teamId: team.id,
      slackUserId: 'U0ALICE',
      position: 0,
    };
    const endpoint = {
      id: '2d2e3f40-5b6c-4d7e-9f80-91a2b3c4d5e6',
      teamId: team.id,
      tokenHash: 'a'.repeat(64),
      allowedTopicArns: ['arn:aws:sns:eu-west-1:123456789012:alarms', 'arn:aws:sns:us-east-1:123456789012:events'],
      allowRawDelivery: true,
      insufficientData: 'firing' as const,
      createdAt: at('2026-01-02T03:04:06.001Z'),
    };
    const alert = {
      id: '3e3f4051-6c7d-4e8f-a091-a2b3c4d5e6f7',
      teamId: team.id,
      workflowId: 'alert-payments-cloudwatch-abc123',
      fingerprint: 'cloudwatch:arn:aws:cloudwatch:eu-west-1:123456789012:alarm:HighLatency',
      openFingerprint: 'cloudwatch:arn:aws:cloudwatch:eu-west-1:123456789012:alarm:HighLatency',
      source: 'cloudwatch',
      title: 'HighLatency <!channel>',
      text: 'p99 latency above 2 s for 5 minutes',
      severity: 'critical',
      link: 'https://console.aws.amazon.com/cloudwatch/home#alarmsV2:alarm/HighLatency',
      details: { region: 'eu-west-1', threshold: 2, dimensions: [{ name: 'Service', value: 'api' }], muted: false },
      state: 'acknowledged' as const,
      assignee: 'U0ALICE',
      occurrences: 3,
      acknowledgedBy: 'U0ALICE',
      acknowledgedAt: at('2026-01-02T03:10:00.250Z'),
      endedBy: 'U0BOB',
      endedAt: at('2026-01-02T04:00:00.999Z'),
      slackChannelId: 'C0PAYMENTS',
      slackMessageTs: '1767323045.000100',
      firstSeenAt: at('2026-01-02T03:05:00.000Z'),
      lastSeenAt: at('2026-01-02T03:09:30.500Z'),
      updatedAt: at('2026-01-02T03:10:00.250Z'),
    };
    const alertEvent = {
      id: '4f405162-7d8e-4f90-b1a2-b3c4d5e6f708',
      alertId: alert.id,
      key: `wf-run-1:acknowledged:${alert.id}`,
      type: 'acknowledged',
      actor: 'U0ALICE',
      message: 'Acknowledged by alice',
      data: { button: 'ack', pressId: '1767323400.123456:U0ALICE' },
      at: at('2026-01-02T03:10:00.250Z'),
    };
    const delivery = {
      id: 'b4c6c6d2-7b1b-5b6a-9c2f-6d0f2f7e4a10',
      endpointId: endpoint.id,
      alertId: alert.id,
      receivedAt: at('2026-01-02T03:05:00.100Z'),
    };
    const slackMessage = {
      key: `post:${alert.id}`,
      channel: 'C0PAYMENTS',
      ts: '1767323045.000100',
      createdAt: at('2026-01-02T03:05:01.000Z'),
    };

    const firing = {
      teamId: team.id,
      fingerprint: alert.fingerprint,
      firingKey: '2026-01-02T03:04:00Z',
      alertId: alert.id,
      firstSeenAt: at('2026-01-02T03:05:00.000Z'),
      absorbedAt: at('2026-01-02T03:20:00.000Z'),
    };
    const intakeEntry = {
      id: 9_007_199_254_740_000n,
      workflowId: alert.workflowId,
      partition: 7,
      kind: 'occurrence',
      payload: { kind: 'occurrence', signal: { alertId: alert.id } },
      createdAt: at('2026-01-02T03:05:00.050Z'),
      dispatchedAt: at('2026-01-02T03:05:00.090Z'),
      attempts: 2,
      lastError: 'Temporal is unavailable',
    };

    await db.team.create({ data: team });
    await db.engineer.create({ data: engineer });
    await db.endpoint.create({ data: endpoint });
    await db.alert.create({ data: alert });
    await db.alertEvent.create({ data: alertEvent });
    await db.delivery.create({ data: delivery });
    await db.slackMessage.create({ data: slackMessage });
    await db.alertFiring.create({ data: firing });
    await db.intakeEntry.create({ data: intakeEntry });

    expect(await db.team.findUniqueOrThrow({ where: { id: team.id } })).toEqual(team);
    expect(await db.engineer.findUniqueOrThrow({ where: { id: engineer.id } })).toEqual(engineer);
    expect(await db.endpoint.findUniqueOrThrow({ where: { id: endpoint.id } })).toEqual(endpoint);
    expect(await db.alert.findUniqueOrThrow({ where: { id: alert.id } })).toEqual(alert);
    expect(await db.alertEvent.findUniqueOrThrow({ where: { id: alertEvent.id } })).toEqual(alertEvent);
    expect(await db.delivery.findUniqueOrThrow({ where: { id: delivery.id } })).toEqual(delivery);
    expect(await db.slackMessage.findUniqueOrThrow({ where: { key: slackMessage.key } })).toEqual(slackMessage);
    expect(
      await db.alertFiring.findUniqueOrThrow({
        where: {
          teamId_fingerprint_firingKey: {
            teamId: team.id,
            fingerprint: firing.fingerprint,
            firingKey: firing.firingKey,
          },
        },
      })
    ).toEqual(firing);
    expect(await db.intakeEntry.findUniqueOrThrow({ where: { id: intakeEntry.id } })).toEqual(intakeEntry);
    const withRelations = await db.team.findFirstOrThrow({
      where: { name: 'payments' },
      include: { engineers: true, endpoints: { include: { deliveries: true } }, alerts: { include: { events: true } } },
    });
    expect(withRelations.engineers).toEqual([engineer]);
    expect(withRelations.endpoints).toEqual([{ ...endpoint, deliveries: [delivery] }]);
    expect(withRelations.alerts).toEqual([{ ...alert, events: [alertEvent] }]);
  });

  test('fills in the defaults a new alert and endpoint start with', async () => {
    const team = await db.team.create({
      data: { name: `defaults-${randomBytes(4).toString('hex')}`, slackChannelId: 'C1' },
    });
    const before = Date.now();

    const endpoint = await db.endpoint.create({
      data: { teamId: team.id, tokenHash: randomBytes(32).toString('hex') },
    });
    const alert = await db.alert.create({
      data: {
        teamId: team.id,
        workflowId: 'wf',
        fingerprint: 'fp',
        source: 'generic',
        title: 't',
        severity: 'warning',
      },
    });

    expect(endpoint).toMatchObject({ allowedTopicArns: [], allowRawDelivery: false, insufficientData: 'ignore' });
    expect(alert).toMatchObject({
      state: 'open',
      occurrences: 1,
      openFingerprint: null,
      details: null,
      assignee: null,
    });
    expect(alert.id).toMatch(/^[0-9a-f-]{36}$/);
    expect(alert.firstSeenAt.getTime()).toBeGreaterThanOrEqual(before - 1_000);
    expect(team.escalationTimeoutMs).toBeNull();
  });

  test("an alert's state is stored as the four contract words and nothing else", async () => {
    const labels = await query<{ label: string }>(`SELECT unnest(enum_range(NULL::"AlertState"))::text AS label`);
    expect(labels.map((row) => row.label)).toEqual(['open', 'acknowledged', 'closed', 'resolved']);
    await expect(query(`UPDATE alerts SET state = 'snoozed'`)).rejects.toThrow(/invalid input value for enum/);
  });

  test("an endpoint's INSUFFICIENT_DATA policy is one of its two words and nothing else", async () => {
    const labels = await query<{ label: string }>(
      `SELECT unnest(enum_range(NULL::"InsufficientDataPolicy"))::text AS label`
    );
    expect(labels.map((row) => row.label)).toEqual(['ignore', 'firing']);
    await expect(query(`UPDATE endpoints SET insufficient_data = 'page'`)).rejects.toThrow(
      /invalid input value for enum/
    );
  });
});

describe('unique constraints the app relies on', () => {
  async function newTeam(): Promise<string> {
    const team = await db.team.create({
      data: { name: `team-${randomBytes(4).toString('hex')}`, slackChannelId: 'C1' },
    });
    return team.id;
  }

  function alertData(teamId: string, openFingerprint: string | null) {
    return {
      teamId,
      workflowId: `alert-${randomBytes(4).toString('hex')}`,
      fingerprint: 'disk-full',
      openFingerprint,
      source: 'generic',
      title: 'Disk full',
      severity: 'critical',
      state: openFingerprint === null ? ('resolved' as const) : ('open' as const),
    };
  }

  test('one live alert per team and fingerprint; a repeat is refused', async () => {
    const teamId = await newTeam();
    await db.alert.create({ data: alertData(teamId, 'disk-full') });

    const repeat = db.alert.create({ data: alertData(teamId, 'disk-full') });

    await expectUniqueViolation(repeat);
    expect(await db.alert.count({ where: { teamId, openFingerprint: 'disk-full' } })).toBe(1);
  });

  test('ended alerts (no open fingerprint) of the same fingerprint may be many, and other teams are independent', async () => {
    const teamId = await newTeam();
    const otherTeamId = await newTeam();

    await db.alert.create({ data: alertData(teamId, null) });
    await db.alert.create({ data: alertData(teamId, null) });
    await db.alert.create({ data: alertData(teamId, 'disk-full') });
    await db.alert.create({ data: alertData(otherTeamId, 'disk-full') });

    expect(await db.alert.count({ where: { teamId, fingerprint: 'disk-full' } })).toBe(3);
    expect(await db.alert.count({ where: { teamId: otherTeamId } })).toBe(1);
  });

  test('a timeline event key is written once', async () => {
    const teamId = await newTeam();
    const alert = await db.alert.create({ data: alertData(teamId, 'disk-full') });
    const event = { alertId: alert.id, key: `run-1:posted:${alert.id}`, type: 'posted', message: 'Posted to #ops' };
    await db.alertEvent.create({ data: event });

    await expectUniqueViolation(db.alertEvent.create({ data: event }));
    expect(await db.alertEvent.count({ where: { alertId: alert.id } })).toBe(1);
  });

  test("team names are unique among SLACK_BOT_TOKEN's teams, workflow names and endpoint token hashes everywhere", async () => {
    const teamId = await newTeam();
    const { name } = await db.team.findUniqueOrThrow({ where: { id: teamId } });
    const tokenHash = randomBytes(32).toString('hex');
    await db.endpoint.create({ data: { teamId, tokenHash } });
    const workflowName = `wf-${randomBytes(4).toString('hex')}`;
    await db.team.create({ data: { name: `${workflowName}-a`, workflowName, slackChannelId: 'C3' } });

    await expectUniqueViolation(db.team.create({ data: { name, slackChannelId: 'C2' } }));
    await expectUniqueViolation(db.endpoint.create({ data: { teamId, tokenHash } }));
    await expectUniqueViolation(
      db.team.create({ data: { name: `${workflowName}-b`, workflowName, slackChannelId: 'C4' } })
    );
  });
  test("an archived (deleted) team's name, channel and workflow name are free for a new team", async () => {
    const archived = await db.team.create({
      data: {
        name: `gone-${randomBytes(4).toString('hex')}`,
        workflowName: `wf-${randomBytes(4).toString('hex')}`,
        slackChannelId: `C${randomBytes(4).toString('hex').toUpperCase()}`,
        archivedAt: new Date(),
      },
    });
    const again = { name: archived.name, workflowName: archived.workflowName, slackChannelId: archived.slackChannelId };

    await db.team.create({ data: again });

    await expectUniqueViolation(db.team.create({ data: again }));
  });
});

describe('the Slack app tables (installations, event receipts, audit trail)', () => {
  beforeAll(async () => {
    await migrateDatabase(databaseUrl);
  });

  test('an installation, its paused team, an event receipt and an audit entry are written and read back', async () => {
    const installation = await db.slackInstallation.create({
      data: {
        slackTeamId: `T${randomBytes(4).toString('hex').toUpperCase()}`,
        enterpriseId: 'E0ORG',
        teamName: 'Acme',
        botUserId: 'U0BOT',
        sealedInstallation: '{"v":1}',
        installedAt: at('2026-12-01T10:00:00.123Z'),
        uninstalledAt: at('2026-12-01T11:00:00.456Z'),
      },
    });
    const team = await db.team.create({
      data: {
        name: `ops-${randomBytes(4).toString('hex')}`,
        slackChannelId: 'C0OPS',
        installationId: installation.id,
        pausedAt: at('2026-12-01T11:00:00.456Z'),
      },
    });
    const receipt = await db.slackEventReceipt.create({ data: { eventId: `Ev${randomBytes(4).toString('hex')}` } });
    const entry = await db.teamAuditEntry.create({
      data: { teamId: team.id, actor: 'U0ALICE', action: 'rotation', detail: { engineers: ['U1', 'U2'] } },
    });

    expect(await db.slackInstallation.findUniqueOrThrow({ where: { id: installation.id } })).toEqual(installation);
    expect(await db.team.findUniqueOrThrow({ where: { id: team.id } })).toEqual(team);
    expect(await db.slackEventReceipt.findUniqueOrThrow({ where: { eventId: receipt.eventId } })).toEqual(receipt);
    expect(await db.teamAuditEntry.findUniqueOrThrow({ where: { id: entry.id } })).toEqual(entry);
  });

  test("writes and reads back a channel's pace and its queued posts with every field set", async () => {
    const pace = {
      channelId: 'C0STORM',
      tokens: 1.5,
      tokensAt: 1_800_000_000_123.5,
      pausedUntil: 1_800_000_001_000,
      pacerQueued: true,
      updatedAt: at('2026-01-02T03:04:07.001Z'),
      pacerAwakeAt: 1_800_000_000_500,
      stormSince: 1_800_000_000_000,
    };
    const post = {
      id: 41n,
      channelId: 'C0STORM',
      requestId: 'alert-payments-x/run-1/post-1',
      workflowId: 'alert-payments-x',
      alertId: '3e3f4051-6c7d-4e8f-a091-a2b3c4d5e6f7',
      severity: 'critical',
      severityRank: 0,
      title: 'HighLatency <!channel>',
      status: 'granted',
      endedState: 'resolved',
      slot: 1_800_000_002_000,
      grantRound: 'channel/C0STORM/run-1/7',
      requestedAt: at('2026-01-02T03:04:08.002Z'),
      grantedAt: at('2026-01-02T03:04:09.003Z'),
    };
    await db.slackChannelPace.create({ data: pace });
    await db.slackChannelPost.create({ data: post });

    expect(await db.slackChannelPace.findUniqueOrThrow({ where: { channelId: pace.channelId } })).toEqual(pace);
    expect(await db.slackChannelPost.findUniqueOrThrow({ where: { id: post.id } })).toEqual(post);
    await expectUniqueViolation(db.slackChannelPost.create({ data: { ...post, id: 42n } }));
  });

  test('one installation per workspace, one team per channel of an installation, one receipt per event id', async () => {
    const slackTeamId = `T${randomBytes(4).toString('hex').toUpperCase()}`;
    const installation = await db.slackInstallation.create({ data: { slackTeamId } });
    await db.team.create({
      data: { name: `a-${randomBytes(4).toString('hex')}`, slackChannelId: 'C0SAME', installationId: installation.id },
    });
    const eventId = `Ev${randomBytes(4).toString('hex')}`;
    await db.slackEventReceipt.create({ data: { eventId } });

    await expectUniqueViolation(db.slackInstallation.create({ data: { slackTeamId } }));
    await expectUniqueViolation(
      db.team.create({
        data: {
          name: `b-${randomBytes(4).toString('hex')}`,
          slackChannelId: 'C0SAME',
          installationId: installation.id,
        },
      })
    );
    await expectUniqueViolation(db.slackEventReceipt.create({ data: { eventId } }));
  });

  test('team names are unique per installation: two workspaces may each have an ops team, one workspace only one', async () => {
    const name = `ops-${randomBytes(4).toString('hex')}`;
    const [acme, globex] = await Promise.all(
      ['A', 'G'].map((prefix) =>
        db.slackInstallation.create({ data: { slackTeamId: `T${prefix}${randomBytes(4).toString('hex')}` } })
      )
    );
    await db.team.create({ data: { name, slackChannelId: 'C0ACME', installationId: acme!.id } });
    await db.team.create({ data: { name, slackChannelId: 'C0GLOBEX', installationId: globex!.id } });
    await db.team.create({ data: { name, slackChannelId: 'C0SOLO' } });

    await expectUniqueViolation(
      db.team.create({ data: { name, slackChannelId: 'C0ACME2', installationId: acme!.id } })
    );
    expect(await db.team.count({ where: { name } })).toBe(3);
  });

  test('deleting an installation leaves its teams, without installation; deleting a team removes its audit trail', async () => {
    const installation = await db.slackInstallation.create({
      data: { slackTeamId: `T${randomBytes(4).toString('hex')}` },
    });
    const team = await db.team.create({
      data: { name: `c-${randomBytes(4).toString('hex')}`, slackChannelId: 'C0X', installationId: installation.id },
    });
    await db.teamAuditEntry.create({ data: { teamId: team.id, actor: 'slack', action: 'created' } });

    await db.slackInstallation.delete({ where: { id: installation.id } });
    expect((await db.team.findUniqueOrThrow({ where: { id: team.id } })).installationId).toBeNull();
    await db.team.delete({ where: { id: team.id } });
    expect(await db.teamAuditEntry.count({ where: { teamId: team.id } })).toBe(0);
  });
});

describe('the on-call tables (schedules, overrides, a team’s schedule)', () => {
  beforeAll(async () => {
    await migrateDatabase(databaseUrl);
  });

  test('a schedule, its override and the team using it are written and read back with every field set', async () => {
    const owner = await db.team.create({
      data: { name: `owner-${randomBytes(4).toString('hex')}`, slackChannelId: 'C0OWN' },
    });
    const schedule = {
      id: '5a6b7c8d-9e0f-4a1b-8c2d-3e4f5a6b7c8d',
      name: 'Payments primary',
      timeZone: 'Europe/Berlin',
      rotations: [
        {
          name: 'Primary',
          kind: 'weekly',
          handoff: '2026-03-02T09:00',
          members: ['U0ANN', ['U0BOB', 'U0CAT']],
          layer: 1,
        },
      ],
      teamId: owner.id,
      icalToken: randomBytes(24).toString('base64url'),
      version: 7,
      handoffNotices: true,
      slackUsergroupId: 'S0ONCALL',
      createdAt: at('2026-12-08T09:00:00.123Z'),
      updatedAt: at('2026-12-08T10:00:00.456Z'),
    };
    const override = {
      id: '6b7c8d9e-0f1a-4b2c-9d3e-4f5a6b7c8d9e',
      scheduleId: schedule.id,
      startsAt: at('2026-12-09T08:00:00.000Z'),
      endsAt: at('2026-12-09T20:00:00.000Z'),
      addUserId: 'U0ZED',
      removeUserId: 'U0ANN',
      createdBy: 'U0BOB',
      createdAt: at('2026-12-08T11:00:00.789Z'),
    };

    await db.schedule.create({ data: schedule });
    await db.scheduleOverride.create({ data: override });
    const team = await db.team.create({
      data: {
        name: `uses-${randomBytes(4).toString('hex')}`,
        slackChannelId: 'C0USE',
        scheduleId: schedule.id,
        skipAway: true,
      },
    });

    expect(await db.schedule.findUniqueOrThrow({ where: { id: schedule.id } })).toEqual(schedule);
    expect(await db.scheduleOverride.findUniqueOrThrow({ where: { id: override.id } })).toEqual(override);
    expect(await db.team.findUniqueOrThrow({ where: { id: team.id } })).toMatchObject({
      scheduleId: schedule.id,
      skipAway: true,
    });
    expect(
      await db.schedule.findUniqueOrThrow({
        where: { id: schedule.id },
        include: { overrides: true, teams: { select: { id: true } } },
      })
    ).toMatchObject({ overrides: [override], teams: [{ id: team.id }] });
  });

  test('defaults: version 1, a team without schedule and not skipping anyone', async () => {
    const schedule = await db.schedule.create({
      data: { name: 'Defaults', timeZone: 'UTC', rotations: [], icalToken: randomBytes(24).toString('base64url') },
    });
    const team = await db.team.create({
      data: { name: `plain-${randomBytes(4).toString('hex')}`, slackChannelId: 'C1' },
    });

    expect(schedule).toMatchObject({ version: 1, teamId: null });
    expect(team).toMatchObject({ scheduleId: null, skipAway: false });
  });

  test('iCal tokens are unique; deleting a schedule removes its overrides and leaves its teams without one', async () => {
    const icalToken = randomBytes(24).toString('base64url');
    const schedule = await db.schedule.create({ data: { name: 'S', timeZone: 'UTC', rotations: [], icalToken } });
    await db.scheduleOverride.create({
      data: {
        scheduleId: schedule.id,
        startsAt: at('2026-12-09T08:00:00Z'),
        endsAt: at('2026-12-09T09:00:00Z'),
        addUserId: 'U0A',
      },
    });
    const team = await db.team.create({
      data: { name: `t-${randomBytes(4).toString('hex')}`, slackChannelId: 'C2', scheduleId: schedule.id },
    });

    await expectUniqueViolation(db.schedule.create({ data: { name: 'T', timeZone: 'UTC', rotations: [], icalToken } }));
    await db.schedule.delete({ where: { id: schedule.id } });
    expect(await db.scheduleOverride.count({ where: { scheduleId: schedule.id } })).toBe(0);
    expect((await db.team.findUniqueOrThrow({ where: { id: team.id } })).scheduleId).toBeNull();
  });

  test('deleting the team a schedule was made for keeps the schedule', async () => {
    const owner = await db.team.create({
      data: { name: `gone-${randomBytes(4).toString('hex')}`, slackChannelId: 'C3' },
    });
    const schedule = await db.schedule.create({
      data: {
        name: 'Kept',
        timeZone: 'UTC',
        rotations: [],
        icalToken: randomBytes(24).toString('base64url'),
        teamId: owner.id,
      },
    });

    await db.team.delete({ where: { id: owner.id } });

    expect((await db.schedule.findUniqueOrThrow({ where: { id: schedule.id } })).teamId).toBeNull();
  });
});
