/**
 * Setting a team up and looking after it from Slack: the team of a channel is created when the
 * bot is invited, paused when it is removed, resumed when it is invited back; the slash command
 * changes its rotation, timeout and endpoint token. Every change is written to the team's audit
 * trail in the same transaction as the change.
 */
import { Prisma, type Database } from '../../db/client';
import { issueEndpointToken, hashEndpointToken } from './endpoints';
import { createTeam, endpointUrls, MAX_TEAMS_PER_INSTALLATION, TeamNameTakenError } from './teams';

/** The team of one channel in one workspace installation (null: single-workspace mode). */
export interface ChannelRef {
  installationId: string | null;
  channelId: string;
}

export interface ChannelTeam {
  id: string;
  name: string;
  pausedAt: Date | null;
  escalationTimeoutMs: number | null;
  engineers: string[];
  /** The on-call schedule its alerts go to first, if any. */
  scheduleId: string | null;
}

/** Team names are slugs of at most 40 characters (they go into workflow ids and URLs). */
const MAX_TEAM_NAME = 40;

/** A channel name as a team name: lowercase letters, digits and dashes. */
export function teamNameForChannel(channelName: string): string {
  const slug = channelName
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, MAX_TEAM_NAME)
    .replace(/-+$/, '');
  return slug === '' ? 'team' : slug;
}

export async function findChannelTeam(db: Database, ref: ChannelRef): Promise<ChannelTeam | null> {
  const team = await db.team.findFirst({
    where: { installationId: ref.installationId, slackChannelId: ref.channelId },
    include: { engineers: { orderBy: { position: 'asc' } } },
  });
  if (!team) return null;
  return {
    id: team.id,
    name: team.name,
    pausedAt: team.pausedAt,
    escalationTimeoutMs: team.escalationTimeoutMs,
    engineers: team.engineers.map((engineer) => engineer.slackUserId),
    scheduleId: team.scheduleId,
  };
}

async function audit(
  db: Database | Prisma.TransactionClient,
  teamId: string,
  actor: string,
  action: string,
  detail?: Prisma.InputJsonValue
): Promise<void> {
  await db.teamAuditEntry.create({ data: { teamId, actor, action, detail } });
}

export type ChannelJoined =
  | { kind: 'created'; team: { id: string; name: string }; token: string; webhookUrl: string; snsUrl: string }
  | { kind: 'resumed'; team: ChannelTeam }
  | { kind: 'already-active'; team: ChannelTeam }
  | { kind: 'limit-reached'; limit: number };

/**
 * The bot was added to a channel: creates the channel's team (named after the channel, with a
 * number added when another team of the same installation has that name), or resumes the paused
 * one. An OAuth installation with MAX_TEAMS_PER_INSTALLATION teams gets no more.
 */
export async function joinChannel(
  db: Database,
  publicUrl: string,
  ref: ChannelRef & { channelName: string; actor: string }
): Promise<ChannelJoined> {
  const existing = await findChannelTeam(db, ref);
  if (existing) {
    if (!existing.pausedAt) return { kind: 'already-active', team: existing };
    await db.$transaction(async (tx) => {
      await tx.team.update({ where: { id: existing.id }, data: { pausedAt: null } });
      await audit(tx, existing.id, ref.actor, 'resumed', { reason: 'invited back to the channel' });
    });
    return { kind: 'resumed', team: { ...existing, pausedAt: null } };
  }
  // SLACK_BOT_TOKEN's workspace is the operator's own, and shares its namespace with the admin API: not capped.
  if (ref.installationId !== null) {
    const teams = await db.team.count({ where: { installationId: ref.installationId } });
    if (teams >= MAX_TEAMS_PER_INSTALLATION) return { kind: 'limit-reached', limit: MAX_TEAMS_PER_INSTALLATION };
  }
  const base = teamNameForChannel(ref.channelName);
  for (let attempt = 1; ; attempt += 1) {
    const suffix = attempt === 1 ? '' : `-${attempt}`;
    const name = `${base.slice(0, MAX_TEAM_NAME - suffix.length).replace(/-+$/, '')}${suffix}`;
    try {
      const created = await createTeam(db, publicUrl, {
        name,
        slackChannelId: ref.channelId,
        engineers: [],
        installationId: ref.installationId ?? undefined,
      });
      await audit(db, created.id, ref.actor, 'created', { channel: ref.channelId, name });
      return { kind: 'created', team: { id: created.id, name: created.name }, ...created };
    } catch (error) {
      if (error instanceof TeamNameTakenError && attempt < 50) {
        // The same channel created meanwhile (a concurrent delivery) is not a name clash.
        const raced = await findChannelTeam(db, ref);
        if (raced) return { kind: 'already-active', team: raced };
        continue;
      }
      throw error;
    }
  }
}

/** The bot left or was removed: the channel's team is paused. Returns it, if there is one. */
export async function leaveChannel(db: Database, ref: ChannelRef & { actor: string }): Promise<ChannelTeam | null> {
  const team = await findChannelTeam(db, ref);
  if (!team || team.pausedAt) return team;
  await db.$transaction(async (tx) => {
    await tx.team.update({ where: { id: team.id }, data: { pausedAt: new Date() } });
    await audit(tx, team.id, ref.actor, 'paused', { reason: 'Escalator was removed from the channel' });
  });
  return team;
}

/** How a change was asked for in Slack, kept in its audit entry. */
export type ChangeVia = 'command' | 'mention';

/** Sets the escalation order; `actor` is the Slack user who asked. */
export async function setRotation(
  db: Database,
  teamId: string,
  engineers: string[],
  actor: string,
  via?: ChangeVia
): Promise<void> {
  await db.$transaction(async (tx) => {
    await tx.engineer.deleteMany({ where: { teamId } });
    await tx.engineer.createMany({
      data: engineers.map((slackUserId, position) => ({ teamId, slackUserId, position })),
    });
    await audit(tx, teamId, actor, 'rotation', { engineers, via });
  });
}

export async function setEscalationTimeout(
  db: Database,
  teamId: string,
  ms: number,
  actor: string,
  via?: ChangeVia
): Promise<void> {
  await db.$transaction(async (tx) => {
    await tx.team.update({ where: { id: teamId }, data: { escalationTimeoutMs: ms } });
    await audit(tx, teamId, actor, 'timeout', { escalationTimeoutMs: ms, via });
  });
}

/** Replaces the team's endpoint tokens with one new token; the old URLs stop working at once. */
export async function rotateTeamToken(
  db: Database,
  publicUrl: string,
  teamId: string,
  actor: string,
  via?: ChangeVia
): Promise<{ token: string; webhookUrl: string; snsUrl: string }> {
  const token = issueEndpointToken();
  await db.$transaction(async (tx) => {
    const endpoints = await tx.endpoint.findMany({
      where: { teamId },
      select: { id: true },
      orderBy: { createdAt: 'asc' },
    });
    const [keep, ...rest] = endpoints;
    if (keep) await tx.endpoint.update({ where: { id: keep.id }, data: { tokenHash: hashEndpointToken(token) } });
    else await tx.endpoint.create({ data: { teamId, tokenHash: hashEndpointToken(token) } });
    if (rest.length > 0) await tx.endpoint.deleteMany({ where: { id: { in: rest.map((e) => e.id) } } });
    await audit(tx, teamId, actor, 'token-rotated', via ? { via } : undefined);
  });
  return { token, ...endpointUrls(publicUrl, token) };
}

/** Open alerts of a team, newest first, with where their Slack message is. */
export async function openAlertsOf(db: Database, teamId: string, limit = 10) {
  return db.alert.findMany({
    where: { teamId, state: { in: ['open', 'acknowledged'] } },
    orderBy: { firstSeenAt: 'desc' },
    take: limit,
    select: { title: true, state: true, assignee: true, slackChannelId: true, slackMessageTs: true, severity: true },
  });
}
