/** Endpoint tokens: issued once, kept only as a SHA-256, looked up by hashing what arrives. */
import { createHash, randomBytes } from 'node:crypto';
import type { Database } from '../../db/client';
import type { InsufficientDataPolicy } from '../../sources/cloudwatch';

/** The team behind an endpoint, with its engineers in escalation order. */
export interface EndpointWithTeam {
  id: string;
  allowedTopicArns: string[];
  allowRawDelivery: boolean;
  /** What a CloudWatch INSUFFICIENT_DATA state does on this endpoint. */
  insufficientData: InsufficientDataPolicy;
  team: {
    id: string;
    name: string;
    slackChannelId: string;
    escalationTimeoutMs: number | null;
    /** Slack user ids, first in line first. */
    engineers: string[];
    /** The Slack installation that serves the team (OAuth mode). */
    installationId: string | null;
    /** Set while the team is paused: its endpoints answer 410. */
    pausedAt: Date | null;
  };
}

/** base64url of 32 random bytes is 43 characters; anything far from that shape cannot be a token. */
const TOKEN_SHAPE = /^[A-Za-z0-9_-]{16,128}$/;

/** A new endpoint secret: 32 random bytes, base64url (URL-safe, no padding). */
export function issueEndpointToken(): string {
  return randomBytes(32).toString('base64url');
}

/** What the endpoints table keeps instead of the token: its SHA-256, hex. */
export function hashEndpointToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

/** The endpoint a token opens, or null when the token is malformed or unknown. */
export async function findEndpointByToken(db: Database, token: string): Promise<EndpointWithTeam | null> {
  if (!TOKEN_SHAPE.test(token)) return null;
  const endpoint = await db.endpoint.findUnique({
    where: { tokenHash: hashEndpointToken(token) },
    include: { team: { include: { engineers: { orderBy: { position: 'asc' } } } } },
  });
  if (!endpoint) return null;
  const { team } = endpoint;
  return {
    id: endpoint.id,
    allowedTopicArns: endpoint.allowedTopicArns,
    allowRawDelivery: endpoint.allowRawDelivery,
    insufficientData: endpoint.insufficientData,
    team: {
      id: team.id,
      name: team.name,
      slackChannelId: team.slackChannelId,
      escalationTimeoutMs: team.escalationTimeoutMs,
      engineers: team.engineers.map((engineer) => engineer.slackUserId),
      installationId: team.installationId,
      pausedAt: team.pausedAt,
    },
  };
}
