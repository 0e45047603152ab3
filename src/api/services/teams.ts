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
 * Creates a team, its engineers (in the given order) and one endpoint, in one transaction.
 * Throws TeamNameTakenError when the name is in use.
 */
export async function createTeam(db: Database, publicUrl: string, team: NewTeam): Promise<CreatedTeam> {
  const token = issueEndpointToken();
  try {
    const created = await db.team.create({
      data: {
        name: team.name,
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
