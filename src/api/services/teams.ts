/** Teams: who gets an alert, in which channel, in what order; each created with its first endpoint. */
import { inSqlTransaction, Prisma, type Database } from '../../db/client';
import { formatDuration } from '../../domain/duration';
import { appendToJournal, journalPartition, lockWorkflowJournals, type JournalEntry } from '../../intake/journal';
import { journalWritten } from '../../intake/wake';
import type { InsufficientDataPolicy } from '../../sources/cloudwatch';
import { hashEndpointToken, issueEndpointToken } from './endpoints';

export interface NewTeam {
  name: string;
  slackChannelId: string;
  /** Slack user ids in escalation order. */
  engineers: string[];
  /** Overrides ESCALATION_TIMEOUT for this team. */
  escalationTimeoutMs?: number;
  /** How the team's endpoint treats SNS and CloudWatch input; the column defaults where unset. */
  endpoint?: EndpointSettings;
  /** The Slack installation that serves the team (a team created by inviting the bot, OAuth mode). */
  installationId?: string;
}

/** Per-endpoint choices about what a sender may deliver. */
export interface EndpointSettings {
  /** SNS topic ARNs (`*` within a part) whose messages are accepted; empty or unset accepts any. */
  allowedTopicArns?: string[];
  /** Accept SNS raw message delivery, which is unsigned: the token is then its only credential. */
  allowRawDelivery?: boolean;
  insufficientData?: InsufficientDataPolicy;
}

/** A created team and its endpoint. The token is shown here once: only its hash is stored. */
export interface CreatedTeam {
  id: string;
  name: string;
  token: string;
  webhookUrl: string;
  snsUrl: string;
}

export class TeamNameTakenError extends Error {
  override name = 'TeamNameTakenError';
}

/** The URLs a sender posts to, under PUBLIC_URL. */
export function endpointUrls(publicUrl: string, token: string): Pick<CreatedTeam, 'webhookUrl' | 'snsUrl'> {
  return { webhookUrl: `${publicUrl}/webhooks/${token}`, snsUrl: `${publicUrl}/sns/${token}` };
}

/**
 * Slack channels that one OAuth installation may turn into teams by inviting the bot. Generous for
 * one company's on-call channels; a bound on what one workspace can write into the shared database
 * (issue 24). The admin API and SLACK_BOT_TOKEN's workspace are the operator's own: not capped.
 */
export const MAX_TEAMS_PER_INSTALLATION = 200;

export class TeamLimitReachedError extends Error {
  override name = 'TeamLimitReachedError';
}

/**
 * Creates a team, its engineers (in the given order) and one endpoint, in one transaction.
 * Throws TeamNameTakenError when the name is in use in the team's installation.
 */
export async function createTeam(db: Database, publicUrl: string, team: NewTeam): Promise<CreatedTeam> {
  const token = issueEndpointToken();
  try {
    const created = await db.team.create({
      data: {
        name: team.name,
        workflowName: await workflowNameOf(db, team),
        slackChannelId: team.slackChannelId,
        escalationTimeoutMs: team.escalationTimeoutMs,
        installationId: team.installationId,
        engineers: { create: team.engineers.map((slackUserId, position) => ({ slackUserId, position })) },
        endpoints: { create: [{ tokenHash: hashEndpointToken(token), ...team.endpoint }] },
      },
      select: { id: true, name: true },
    });
    return { id: created.id, name: created.name, token, ...endpointUrls(publicUrl, token) };
  } catch (error) {
    if (error instanceof Prisma.PrismaClientKnownRequestError && error.code === 'P2002') {
      throw new TeamNameTakenError(`a team named "${team.name}" already exists`);
    }
    throw error;
  }
}

/**
 * The team's part of its alerts' workflow ids: its name for SLACK_BOT_TOKEN's teams (as before
 * installations existed), `<name>.<workspace id>` for an installation's, since two workspaces may
 * each have an `ops` team. Names are slugs without dots, so the two forms never meet.
 */
async function workflowNameOf(db: Database, team: Pick<NewTeam, 'name' | 'installationId'>): Promise<string> {
  if (!team.installationId) return team.name;
  const installation = await db.slackInstallation.findUniqueOrThrow({
    where: { id: team.installationId },
    select: { slackTeamId: true },
  });
  return `${team.name}.${installation.slackTeamId}`;
}

/** A team as the admin API shows it; its endpoint token is never shown again. */
export interface TeamDetails {
  id: string;
  name: string;
  slackChannelId: string;
  /** Slack user ids in escalation order. */
  engineers: string[];
  /** This team's own timeout, as it is written (`5m`, `90s`); null when ESCALATION_TIMEOUT applies. */
  escalationTimeout: string | null;
  /** The same in milliseconds, as earlier versions showed it only; kept for scripts that read it. */
  escalationTimeoutMs: number | null;
  createdAt: string;
  /** How many of its alerts are open or acknowledged now. */
  activeAlerts: number;
  /** The schedule whose on-call person gets its alerts first; null: the engineers' order. */
  scheduleId: string | null;
  /** Whether people away or in Do Not Disturb are passed over. */
  skipAway: boolean;
}

const teamDetailsInclude = {
  engineers: { orderBy: { position: 'asc' } },
  _count: { select: { alerts: { where: { state: { in: ['open', 'acknowledged'] } } } } },
} satisfies Prisma.TeamInclude;

type TeamRow = Prisma.TeamGetPayload<{ include: typeof teamDetailsInclude }>;

function teamDetails(team: TeamRow): TeamDetails {
  return {
    id: team.id,
    name: team.name,
    slackChannelId: team.slackChannelId,
    engineers: team.engineers.map((engineer) => engineer.slackUserId),
    escalationTimeout: team.escalationTimeoutMs === null ? null : formatDuration(team.escalationTimeoutMs),
    escalationTimeoutMs: team.escalationTimeoutMs,
    createdAt: team.createdAt.toISOString(),
    activeAlerts: team._count.alerts,
    scheduleId: team.scheduleId,
    skipAway: team.skipAway,
  };
}

/** Every team, by name (deleted ones are archived, and not listed). */
export async function listTeams(db: Database): Promise<TeamDetails[]> {
  const teams = await db.team.findMany({
    where: { archivedAt: null },
    include: teamDetailsInclude,
    orderBy: { name: 'asc' },
  });
  return teams.map(teamDetails);
}

/** One team, or null when there is no such id or the team was deleted. */
export async function getTeam(db: Database, id: string): Promise<TeamDetails | null> {
  const team = await db.team.findUnique({ where: { id, archivedAt: null }, include: teamDetailsInclude });
  return team ? teamDetails(team) : null;
}

/** What PATCH /api/teams/:id may change. Alerts already open keep the team as it was when they opened. */
export interface TeamChanges {
  slackChannelId?: string;
  /** The new escalation order, replacing the old one. */
  engineers?: string[];
  /** null: back to ESCALATION_TIMEOUT. */
  escalationTimeoutMs?: number | null;
  /** null: no schedule, the engineers' order. */
  scheduleId?: string | null;
  skipAway?: boolean;
}

/** PATCH names a schedule that does not exist. */
export class UnknownScheduleError extends Error {
  override name = 'UnknownScheduleError';
}

/** Applies the changes in one transaction; null when there is no such team. */
export async function updateTeam(db: Database, id: string, changes: TeamChanges): Promise<TeamDetails | null> {
  return db.$transaction(async (tx) => {
    const exists = await tx.team.findUnique({ where: { id, archivedAt: null }, select: { id: true } });
    if (!exists) return null;
    if (
      changes.scheduleId &&
      !(await tx.schedule.findUnique({ where: { id: changes.scheduleId }, select: { id: true } }))
    ) {
      throw new UnknownScheduleError('scheduleId: no schedule with this id');
    }
    if (changes.engineers) {
      await tx.engineer.deleteMany({ where: { teamId: id } });
      await tx.engineer.createMany({
        data: changes.engineers.map((slackUserId, position) => ({ teamId: id, slackUserId, position })),
      });
    }
    const team = await tx.team.update({
      where: { id },
      data: {
        slackChannelId: changes.slackChannelId,
        escalationTimeoutMs: changes.escalationTimeoutMs,
        scheduleId: changes.scheduleId,
        skipAway: changes.skipAway,
      },
      include: teamDetailsInclude,
    });
    return teamDetails(team);
  });
}

export class TeamHasActiveAlertsError extends Error {
  override name = 'TeamHasActiveAlertsError';
}

/** Who closes a deleted team's open alerts, as their timelines and Slack messages name it. */
export const TEAM_DELETION_ACTOR = { userId: 'admin-api', userName: 'the admin API' } as const;

/** What deleting a team did: it is archived, and its open alerts were ended. */
export interface ArchivedTeam {
  id: string;
  name: string;
  archivedAt: string;
  /** Every alert the team ever had: kept, with its timeline, readable at GET /api/alerts/:id. */
  alertsKept: number;
  /** Ids of the alerts that were open or acknowledged: each is closed by its workflow, the deletion as the reason. */
  closedAlertIds: string[];
}

/**
 * Deletes a team by archiving it: its endpoints go (their tokens stop working at once), it leaves
 * the team list, and its name and channel are free again; its alerts and their timelines stay.
 * Alerts still open or acknowledged would go on paging people for a team that is gone: unless
 * `closeOpenAlerts`, the deletion is refused (TeamHasActiveAlertsError says how to go ahead);
 * with it, each gets a close in the intake journal, in the same transaction, which its workflow
 * takes like a press of Close, and records on its timeline with the deletion as the reason.
 * Returns null when there is no such team (or it was deleted already).
 */
export async function archiveTeam(
  db: Database,
  id: string,
  { closeOpenAlerts }: { closeOpenAlerts: boolean }
): Promise<ArchivedTeam | null> {
  const partitions = new Set<number>();
  const archived = await inSqlTransaction(db, async (sql) => {
    // Two deletions of one team take turns. NO KEY: an alert being opened for the team meanwhile
    // (its foreign key share-locks the row while it holds its journal lock) is not waited for,
    // which could deadlock with the journal locks taken below; such an alert, opened by a report
    // taken before the endpoints went, is not closed here.
    const { rows: teams } = await sql.query<{ name: string }>(
      'SELECT name FROM teams WHERE id = $1 AND archived_at IS NULL FOR NO KEY UPDATE',
      [id]
    );
    const team = teams[0];
    if (!team) return null;
    const { rows: open } = await sql.query<{ id: string; workflow_id: string }>(
      `SELECT id, workflow_id FROM alerts WHERE team_id = $1 AND state IN ('open', 'acknowledged')
        ORDER BY workflow_id, id`,
      [id]
    );
    if (open.length > 0 && !closeOpenAlerts) {
      const alerts = open.length === 1 ? '1 open or acknowledged alert' : `${open.length} open or acknowledged alerts`;
      throw new TeamHasActiveAlertsError(
        `team "${team.name}" has ${alerts}: DELETE /api/teams/${id}?closeOpenAlerts=true closes ${open.length === 1 ? 'it' : 'them'} ` +
          `(each timeline records the deletion as the reason) and deletes the team; its alerts' history stays readable at GET /api/alerts`
      );
    }
    const reason = `team ${team.name} was deleted`;
    const workflowIds = [...new Set(open.map((alert) => alert.workflow_id))];
    await lockWorkflowJournals(sql, workflowIds);
    for (const workflowId of workflowIds) {
      const entry: JournalEntry = {
        kind: 'action',
        workflowId,
        signal: { action: 'close', ...TEAM_DELETION_ACTOR, pressId: `team-deleted/${id}`, reason },
      };
      await appendToJournal(sql, entry);
      partitions.add(journalPartition(workflowId));
    }
    const { rows: updated } = await sql.query<{ archived_at: Date }>(
      'UPDATE teams SET archived_at = now() WHERE id = $1 RETURNING archived_at',
      [id]
    );
    await sql.query('DELETE FROM endpoints WHERE team_id = $1', [id]);
    const { rows: counted } = await sql.query<{ count: string }>(
      'SELECT count(*) AS count FROM alerts WHERE team_id = $1',
      [id]
    );
    await sql.query(
      `INSERT INTO team_audit_entries (id, team_id, actor, action, detail)
       VALUES (gen_random_uuid(), $1, $2, 'deleted', $3)`,
      [id, TEAM_DELETION_ACTOR.userId, JSON.stringify({ closedAlertIds: open.map((alert) => alert.id) })]
    );
    return {
      id,
      name: team.name,
      archivedAt: (updated[0] as { archived_at: Date }).archived_at.toISOString(),
      alertsKept: Number(counted[0]?.count ?? 0),
      closedAlertIds: open.map((alert) => alert.id),
    };
  });
  for (const partition of partitions) journalWritten(db, partition);
  return archived;
}

/**
 * Issues a new endpoint token for the team's endpoint (the oldest, when it has several); the old
 * token stops working at once. Null when there is no such team.
 */
export async function rotateEndpointToken(
  db: Database,
  publicUrl: string,
  teamId: string
): Promise<Pick<CreatedTeam, 'token' | 'webhookUrl' | 'snsUrl'> | null> {
  const endpoint = await db.endpoint.findFirst({
    where: { teamId, team: { archivedAt: null } },
    orderBy: { createdAt: 'asc' },
  });
  const token = issueEndpointToken();
  if (endpoint) {
    await db.endpoint.update({ where: { id: endpoint.id }, data: { tokenHash: hashEndpointToken(token) } });
  } else {
    if (!(await db.team.findUnique({ where: { id: teamId, archivedAt: null }, select: { id: true } }))) return null;
    await db.endpoint.create({ data: { teamId, tokenHash: hashEndpointToken(token) } });
  }
  return { token, ...endpointUrls(publicUrl, token) };
}
