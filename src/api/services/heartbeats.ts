/**
 * Heartbeat monitors for the admin API: create (with the ping URL's token, shown once), list,
 * read, change, delete. Changes and deletes hold the monitor's row lock, the one the sweeper takes
 * before it reports a missed deadline: whichever comes first wins, so that a deleted or paused
 * monitor is never alerted on once the answer is given.
 */
import { randomUUID } from 'node:crypto';
import type { Severity } from '../../domain/alert';
import { inSqlTransaction, Prisma, type Database } from '../../db/client';
import { formatDuration, heartbeatResolution } from '../../heartbeats/monitor-alert';
import { findMonitorRow, listMonitorRows, lockMonitor, type MonitorRow } from '../../heartbeats/store';
import type { AlertIntake } from './alert-intake';
import { hashEndpointToken, issueEndpointToken } from './endpoints';

/** A monitor as the API shows it. */
export interface MonitorView {
  id: string;
  teamId: string;
  name: string;
  interval: string;
  grace: string;
  severity: Severity;
  state: MonitorRow['state'];
  paused: boolean;
  lastPingAt: string | null;
  /** When an alert opens without a ping; null while inactive, unhealthy or paused. */
  dueAt: string | null;
  createdAt: string;
}

export interface NewMonitor {
  teamId: string;
  name: string;
  intervalMs: number;
  graceMs: number;
  severity: Severity;
}

export interface MonitorChanges {
  name?: string;
  intervalMs?: number;
  graceMs?: number;
  severity?: Severity;
  paused?: boolean;
}

export class MonitorNameTakenError extends Error {
  override name = 'MonitorNameTakenError';
}

export class UnknownTeamError extends Error {
  override name = 'UnknownTeamError';
}

export function monitorView(row: MonitorRow): MonitorView {
  const watching = row.state === 'healthy' && row.pausedAt === null;
  return {
    id: row.id,
    teamId: row.teamId,
    name: row.name,
    interval: formatDuration(row.intervalMs),
    grace: formatDuration(row.graceMs),
    severity: row.severity,
    state: row.state,
    paused: row.pausedAt !== null,
    lastPingAt: row.lastPingAt?.toISOString() ?? null,
    dueAt: watching ? (row.dueAt?.toISOString() ?? null) : null,
    createdAt: row.createdAt.toISOString(),
  };
}

function isUniqueViolation(error: unknown): boolean {
  return (
    (error instanceof Prisma.PrismaClientKnownRequestError && error.code === 'P2002') ||
    (error as { code?: unknown } | null)?.code === '23505'
  );
}

/** The ping URL of a token: `<PUBLIC_URL>/heartbeats/<token>`. */
export function pingUrlOf(publicUrl: string, token: string): string {
  return `${publicUrl.replace(/\/+$/, '')}/heartbeats/${token}`;
}

/** Creates an inactive monitor; its ping URL (with the token) is in this answer only. */
export async function createMonitor(
  db: Database,
  publicUrl: string,
  monitor: NewMonitor
): Promise<MonitorView & { pingUrl: string }> {
  const token = issueEndpointToken();
  const team = await db.team.findUnique({ where: { id: monitor.teamId }, select: { id: true } });
  if (!team) throw new UnknownTeamError('teamId: no team with this id');
  try {
    const row = await db.heartbeatMonitor.create({
      data: {
        id: randomUUID(),
        teamId: monitor.teamId,
        name: monitor.name,
        tokenHash: hashEndpointToken(token),
        intervalMs: monitor.intervalMs,
        graceMs: monitor.graceMs,
        severity: monitor.severity,
      },
    });
    return { ...monitorView(row as MonitorRow), pingUrl: pingUrlOf(publicUrl, token) };
  } catch (error) {
    if (isUniqueViolation(error))
      throw new MonitorNameTakenError(`the team already has a monitor named "${monitor.name}"`);
    throw error;
  }
}

export async function listMonitors(db: Database, teamId?: string): Promise<MonitorView[]> {
  return (await listMonitorRows(db, teamId)).map(monitorView);
}

export async function getMonitor(db: Database, id: string): Promise<MonitorView | null> {
  const row = await findMonitorRow(db, id);
  return row ? monitorView(row) : null;
}

/**
 * Changes a monitor under its row lock. A healthy monitor keeps the instant its period started (its
 * last ping, or its resume) and gets the new period from there; resuming a paused monitor starts a
 * full period at `now`, so that the pause itself never counts as silence.
 */
export async function updateMonitor(
  db: Database,
  id: string,
  changes: MonitorChanges,
  now: Date
): Promise<MonitorView | null> {
  try {
    return await inSqlTransaction(db, async (sql) => {
      const current = await lockMonitor(sql, id);
      if (!current) return null;
      const intervalMs = changes.intervalMs ?? current.intervalMs;
      const graceMs = changes.graceMs ?? current.graceMs;
      const pausedAt =
        changes.paused === undefined ? current.pausedAt : changes.paused ? (current.pausedAt ?? now) : null;
      const resumed = current.pausedAt !== null && pausedAt === null;
      let dueAt = current.dueAt;
      if (current.state === 'healthy' && current.dueAt) {
        const periodStart = resumed ? now.getTime() : current.dueAt.getTime() - current.intervalMs - current.graceMs;
        dueAt = new Date(periodStart + intervalMs + graceMs);
      }
      const { rows } = await sql.query<{ id: string }>(
        `UPDATE heartbeat_monitors
            SET name = $2, interval_ms = $3, grace_ms = $4, severity = $5, paused_at = $6, due_at = $7, updated_at = $8
          WHERE id = $1 RETURNING id`,
        [
          id,
          changes.name ?? current.name,
          intervalMs,
          graceMs,
          changes.severity ?? current.severity,
          pausedAt,
          dueAt,
          now,
        ]
      );
      return rows[0] ? id : null;
    }).then(async (updated) => (updated ? getMonitor(db, updated) : null));
  } catch (error) {
    if (isUniqueViolation(error))
      throw new MonitorNameTakenError(`the team already has a monitor named "${changes.name}"`);
    throw error;
  }
}

/**
 * Deletes a monitor under its row lock; if its alert is open (or its resolution not yet
 * reported), the alert is resolved first, since nothing can ping it any more. False when there is
 * no such monitor. Throws what the intake throws (503) and then deletes nothing.
 */
export async function deleteMonitor(
  db: Database,
  intake: Pick<AlertIntake, 'receiveAlert'>,
  id: string
): Promise<boolean> {
  return inSqlTransaction(db, async (sql) => {
    const monitor = await lockMonitor(sql, id);
    if (!monitor) return false;
    if (monitor.state === 'unhealthy' || monitor.resolvePending) {
      await intake.receiveAlert(monitor.endpoint, heartbeatResolution(monitor));
    }
    await sql.query('DELETE FROM heartbeat_monitors WHERE id = $1', [id]);
    return true;
  });
}
