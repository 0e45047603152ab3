/**
 * The sweeper over a database of its own (its far-future clock would otherwise sweep other
 * suites' monitors), with an intake that records what it is given: several
 * sweepers (several gateways) report each missed deadline exactly once, a failed report is made
 * again at the next sweep, and a ping that ends a silence is followed by one resolution.
 */
import { randomUUID } from 'node:crypto';
import { createDatabase, type Database } from '../../src/db/client';
import { migrateDatabase } from '../../src/db/migrate';
import type { EndpointWithTeam } from '../../src/api/services/endpoints';
import { hashEndpointToken } from '../../src/api/services/endpoints';
import { createHeartbeatSweeper } from '../../src/heartbeats/sweeper';
import { recordPing } from '../../src/heartbeats/store';
import { createLogger } from '../../src/logger';
import type { IncomingAlert } from '../../src/sources/types';
import { createFreshDatabase, type FreshDatabase } from '../db/fresh-database';

let fresh: FreshDatabase;
let db: Database;
const log = createLogger({ level: 'error' });

beforeAll(async () => {
  fresh = await createFreshDatabase('heartbeat_sweeper');
  await migrateDatabase(fresh.url);
  db = createDatabase(fresh.url);
});

afterAll(async () => {
  await db?.$disconnect();
  await fresh?.drop();
});

/** An intake that records each report; `failNext` makes the next reports throw as a closed gate does. */
function recordingIntake() {
  const reports: Array<{ teamId: string; report: IncomingAlert }> = [];
  let failures = 0;
  return {
    reports,
    failNext(count: number) {
      failures = count;
    },
    async receiveAlert(endpoint: EndpointWithTeam, report: IncomingAlert) {
      await new Promise((resolve) => setTimeout(resolve, 2));
      if (failures > 0) {
        failures -= 1;
        throw new Error('Temporal is unavailable');
      }
      reports.push({ teamId: endpoint.team.id, report });
      return { alertId: randomUUID(), workflowId: 'w', duplicate: false };
    },
  };
}

/** A team of its own with `count` monitors pinged at `pingedAt`, 10 s interval, no grace; returns their tokens. */
async function monitorsPinged(count: number, pingedAt: Date) {
  const team = await db.team.create({
    data: {
      name: `sweep-${randomUUID().slice(0, 8)}`,
      slackChannelId: `C${randomUUID().slice(0, 8).toUpperCase()}`,
      engineers: { create: [{ slackUserId: 'U0ALICE', position: 0 }] },
    },
  });
  const tokens = Array.from({ length: count }, () => randomUUID());
  await db.heartbeatMonitor.createMany({
    data: tokens.map((token, index) => ({
      id: randomUUID(),
      teamId: team.id,
      name: `job-${index}`,
      tokenHash: hashEndpointToken(token),
      intervalMs: 10_000,
      graceMs: 0,
      severity: 'critical',
    })),
  });
  for (const token of tokens) await recordPing(db, hashEndpointToken(token), pingedAt);
  return { teamId: team.id, tokens };
}

test('three sweepers at once report each missed deadline exactly once', async () => {
  const pingedAt = new Date(Date.now() + 10 * 86_400_000);
  const { teamId } = await monitorsPinged(300, pingedAt);
  const intake = recordingIntake();
  const clock = () => pingedAt.getTime() + 10_000;
  const sweepers = [1, 2, 3].map(() => createHeartbeatSweeper({ db, intake, log, clock }));
  await Promise.all(
    sweepers.map(async (sweeper) => {
      for (let round = 0; round < 3; round += 1) await sweeper.sweepOnce();
    })
  );
  const mine = intake.reports.filter((entry) => entry.teamId === teamId);
  expect(mine).toHaveLength(300);
  expect(new Set(mine.map((entry) => entry.report.fingerprint)).size).toBe(300);
  expect(mine.every((entry) => entry.report.status === 'firing')).toBe(true);
});

test('a report the intake refused is made again at the next sweep, with the same firing key', async () => {
  const pingedAt = new Date(Date.now() + 20 * 86_400_000);
  const { teamId, tokens } = await monitorsPinged(1, pingedAt);
  const intake = recordingIntake();
  const sweeper = createHeartbeatSweeper({ db, intake, log, clock: () => pingedAt.getTime() + 10_000 });
  intake.failNext(1);
  await expect(sweeper.sweepOnce()).rejects.toThrow('Temporal is unavailable');
  await sweeper.sweepOnce();
  await sweeper.sweepOnce();
  const mine = intake.reports.filter((entry) => entry.teamId === teamId);
  expect(mine.map((entry) => entry.report.firingKey)).toEqual([new Date(pingedAt.getTime() + 10_000).toISOString()]);

  // The next ping ends the silence: one resolution, reported once.
  await recordPing(db, hashEndpointToken(tokens[0] as string), new Date(pingedAt.getTime() + 15_000));
  await sweeper.sweepOnce();
  await sweeper.sweepOnce();
  expect(intake.reports.filter((entry) => entry.teamId === teamId).map((entry) => entry.report.status)).toEqual([
    'firing',
    'resolved',
  ]);
});
