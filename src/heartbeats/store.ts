/**
 * Heartbeat monitors in PostgreSQL: the ping (one UPDATE by token hash, the only hot path), what
 * the sweeper takes under row locks, and the rows the admin API reads and changes. Plain SQL on
 * the pool, as for endpoints: a ping at 500 per second must be one round trip.
 */
import type { PoolClient } from 'pg';
import type { Severity } from '../domain/alert';
import { COMMIT_WITHOUT_WAITING_FOR_DISK, sqlPoolOf, type Database } from '../db/client';
import type { EndpointWithTeam } from '../api/services/endpoints';

/** A monitor's state, the contract's words: `inactive` until its first ping. */
export type MonitorState = 'inactive' | 'healthy' | 'unhealthy';

export interface MonitorRow {
  id: string;
  teamId: string;
  name: string;
  intervalMs: number;
  graceMs: number;
  severity: Severity;
  state: MonitorState;
  pausedAt: Date | null;
  lastPingAt: Date | null;
  dueAt: Date | null;
  unhealthySince: Date | null;
  resolvePending: boolean;
  createdAt: Date;
  updatedAt: Date;
}

/** A monitor with the team its alerts go to, as the intake takes a report's endpoint. */
export interface MonitorWithTeam extends MonitorRow {
  endpoint: EndpointWithTeam;
}

const MONITOR_COLUMNS = `
  m.id, m.team_id AS "teamId", m.name, m.interval_ms AS "intervalMs", m.grace_ms AS "graceMs",
  m.severity, m.state, m.paused_at AS "pausedAt", m.last_ping_at AS "lastPingAt", m.due_at AS "dueAt",
  m.unhealthy_since AS "unhealthySince", m.resolve_pending AS "resolvePending",
  m.created_at AS "createdAt", m.updated_at AS "updatedAt"`;

/**
 * The team as endpoints.ts reads it for a report. The intake uses an endpoint's id only to
 * remember a sender's delivery id, which a monitor's reports never carry; the team's first
 * endpoint stands in (or the monitor itself, for a team that has none).
 */
const TEAM_COLUMNS = `
  COALESCE((SELECT e.id FROM endpoints e WHERE e.team_id = t.id ORDER BY e.created_at LIMIT 1), m.id) AS "endpointId",
  t.name AS "teamName", COALESCE(t.workflow_name, t.name) AS "workflowName", t.slack_channel_id AS "slackChannelId",
  t.escalation_timeout_ms AS "escalationTimeoutMs", t.installation_id AS "installationId",
  t.paused_at AS "teamPausedAt", t.schedule_id AS "scheduleId", t.skip_away AS "skipAway",
  ARRAY(SELECT slack_user_id FROM engineers WHERE team_id = t.id ORDER BY position) AS engineers`;

interface MonitorWithTeamRow extends MonitorRow {
  endpointId: string;
  teamName: string;
  workflowName: string;
  slackChannelId: string;
  escalationTimeoutMs: number | null;
  installationId: string | null;
  teamPausedAt: Date | null;
  scheduleId: string | null;
  skipAway: boolean;
  engineers: string[];
}

function withTeam(row: MonitorWithTeamRow): MonitorWithTeam {
  const {
    endpointId,
    teamName,
    workflowName,
    slackChannelId,
    escalationTimeoutMs,
    installationId,
    teamPausedAt,
    scheduleId,
    skipAway,
    engineers,
    ...monitor
  } = row;
  return {
    ...monitor,
    endpoint: {
      id: endpointId,
      allowedTopicArns: [],
      allowRawDelivery: false,
      insufficientData: 'ignore',
      team: {
        id: monitor.teamId,
        name: teamName,
        workflowName,
        slackChannelId,
        escalationTimeoutMs,
        engineers,
        installationId,
        pausedAt: teamPausedAt,
        scheduleId,
        skipAway,
      },
    },
  };
}

/**
 * A ping: the monitor is healthy until `now` + interval + grace. Ending an unhealthy spell leaves
 * the resolution to the sweeper (`resolve_pending`), which reports each monitor's firings and
 * resolutions one after another under the row's lock. Null for an unknown token hash.
 *
 * The commit does not wait for the disk: a ping is answered in a fraction of the time, and the
 * only loss, in a crash of PostgreSQL itself within a fraction of a second of the ping, is that
 * ping: at worst an alert that the next ping resolves (docs/heartbeats.md).
 */
export async function recordPing(
  db: Database,
  tokenHash: string,
  now: Date
): Promise<{ id: string; resolvePending: boolean } | null> {
  const { rows } = await sqlPoolOf(db).query<{ id: string; resolvePending: boolean }>(
    `UPDATE heartbeat_monitors
        SET last_ping_at = $2,
            due_at = $2::timestamptz + (interval_ms + grace_ms) * interval '1 millisecond',
            resolve_pending = resolve_pending OR state = 'unhealthy',
            state = 'healthy',
            unhealthy_since = NULL
       FROM (SELECT ${COMMIT_WITHOUT_WAITING_FOR_DISK}) AS async_commit
      WHERE token_hash = $1
      RETURNING id, resolve_pending AS "resolvePending"`,
    [tokenHash, now]
  );
  return rows[0] ?? null;
}

/**
 * Up to `limit` monitors that have something to report at `now`: past their deadline (healthy, not
 * paused, team not paused), or with a resolution pending. Read without locks: each is then taken
 * on its own (lockMonitorToReport).
 */
export async function monitorsToReport(db: Database, now: Date, limit: number): Promise<string[]> {
  const { rows } = await sqlPoolOf(db).query<{ id: string }>(
    `(SELECT d.id FROM heartbeat_monitors d
       WHERE d.state = 'healthy' AND d.paused_at IS NULL AND d.due_at <= $1
         AND NOT EXISTS (SELECT 1 FROM teams p WHERE p.id = d.team_id AND p.paused_at IS NOT NULL)
       ORDER BY d.due_at LIMIT $2)
     UNION
     (SELECT r.id FROM heartbeat_monitors r WHERE r.resolve_pending LIMIT $2)`,
    [now, limit]
  );
  return rows.map((row) => row.id);
}

/**
 * One monitor with its team, locked until the transaction ends, or null when another process holds
 * it (SKIP LOCKED: that one reports it) or it is gone. The caller re-reads what it needs from this
 * locked version: a ping may have come since it was listed.
 */
export async function lockMonitorToReport(sql: PoolClient, id: string): Promise<MonitorWithTeam | null> {
  const { rows } = await sql.query<MonitorWithTeamRow>(
    `SELECT ${MONITOR_COLUMNS}, ${TEAM_COLUMNS}
       FROM heartbeat_monitors m JOIN teams t ON t.id = m.team_id
      WHERE m.id = $1 FOR UPDATE OF m SKIP LOCKED`,
    [id]
  );
  const row = rows[0];
  return row ? withTeam(row) : null;
}

/** The monitors whose missed deadline was reported: unhealthy since that deadline. */
export async function markUnhealthy(sql: PoolClient, ids: string[]): Promise<void> {
  if (ids.length === 0) return;
  await sql.query(
    `UPDATE heartbeat_monitors SET state = 'unhealthy', unhealthy_since = due_at WHERE id = ANY($1::uuid[])`,
    [ids]
  );
}

/** The monitors whose resolution was reported. */
export async function markResolved(sql: PoolClient, ids: string[]): Promise<void> {
  if (ids.length === 0) return;
  await sql.query(`UPDATE heartbeat_monitors SET resolve_pending = false WHERE id = ANY($1::uuid[])`, [ids]);
}

/** One monitor with its team, locked until the transaction ends (a change or a delete). */
export async function lockMonitor(sql: PoolClient, id: string): Promise<MonitorWithTeam | null> {
  const { rows } = await sql.query<MonitorWithTeamRow>(
    `SELECT ${MONITOR_COLUMNS}, ${TEAM_COLUMNS}
       FROM heartbeat_monitors m JOIN teams t ON t.id = m.team_id
      WHERE m.id = $1 FOR UPDATE OF m`,
    [id]
  );
  const row = rows[0];
  return row ? withTeam(row) : null;
}

/** Monitors by name within their team, all teams or one. */
export async function listMonitorRows(db: Database, teamId?: string): Promise<MonitorRow[]> {
  const { rows } = await sqlPoolOf(db).query<MonitorRow>(
    `SELECT ${MONITOR_COLUMNS} FROM heartbeat_monitors m
      WHERE $1::uuid IS NULL OR m.team_id = $1 ORDER BY m.team_id, m.name`,
    [teamId ?? null]
  );
  return rows;
}

export async function findMonitorRow(db: Database, id: string): Promise<MonitorRow | null> {
  const { rows } = await sqlPoolOf(db).query<MonitorRow>(
    `SELECT ${MONITOR_COLUMNS} FROM heartbeat_monitors m WHERE m.id = $1`,
    [id]
  );
  return rows[0] ?? null;
}
