/** Teams: who gets an alert, in which channel, in what order; each created with its first endpoint. */
import { Prisma, type Database } from '../../db/client';
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
  /** This team's own timeout; null when ESCALATION_TIMEOUT applies. */
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
    escalationTimeoutMs: team.escalationTimeoutMs,
    createdAt: team.createdAt.toISOString(),
    activeAlerts: team._count.alerts,
    scheduleId: team.scheduleId,
    skipAway: team.skipAway,
  };
}

/** Every team, by name. */
export async function listTeams(db: Database): Promise<TeamDetails[]> {
  const teams = await db.team.findMany({ include: teamDetailsInclude, orderBy: { name: 'asc' } });
  return teams.map(teamDetails);
}

/** One team, or null when there is no such id. */
export async function getTeam(db: Database, id: string): Promise<TeamDetails | null> {
  const team = await db.team.findUnique({ where: { id }, include: teamDetailsInclude });
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
    const exists = await tx.team.findUnique({ where: { id }, select: { id: true } });
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

/**
 * Deletes a team with its endpoints and its alerts' history. Refused while any of its alerts is
 * open or acknowledged: their workflows still page people and record their steps.
 * Returns false when there is no such team.
 */
export async function deleteTeam(db: Database, id: string): Promise<boolean> {
  return db.$transaction(async (tx) => {
    const team = await tx.team.findUnique({ where: { id }, include: teamDetailsInclude });
    if (!team) return false;
    if (team._count.alerts > 0) {
      throw new TeamHasActiveAlertsError(
        `team "${team.name}" has ${team._count.alerts} open or acknowledged ${team._count.alerts === 1 ? 'alert' : 'alerts'}: close ${team._count.alerts === 1 ? 'it' : 'them'} first`
      );
    }
    await tx.team.delete({ where: { id } });
    return true;
  });
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
  const endpoint = await db.endpoint.findFirst({ where: { teamId }, orderBy: { createdAt: 'asc' } });
  const token = issueEndpointToken();
  if (endpoint) {
    await db.endpoint.update({ where: { id: endpoint.id }, data: { tokenHash: hashEndpointToken(token) } });
  } else {
    if (!(await db.team.findUnique({ where: { id: teamId }, select: { id: true } }))) return null;
    await db.endpoint.create({ data: { teamId, tokenHash: hashEndpointToken(token) } });
  }
  return { token, ...endpointUrls(publicUrl, token) };
}
