/** Endpoint tokens: issued once, kept only as a SHA-256, looked up by hashing what arrives. */
import { createHash, randomBytes } from 'node:crypto';
import { sqlPoolOf, type Database } from '../../db/client';
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
    /** The team's part of its alerts' workflow ids, unique across installations (schema.prisma). */
    workflowName: string;
    slackChannelId: string;
    escalationTimeoutMs: number | null;
    /** Slack user ids, first in line first. */
    engineers: string[];
    /** The Slack installation that serves the team (OAuth mode). */
    installationId: string | null;
    /** Set while the team is paused: its endpoints answer 410. */
    pausedAt: Date | null;
    /** The on-call schedule whose person a new alert goes to first (src/oncall/), if any. */
    scheduleId: string | null;
    /** Pass over people away or in Do Not Disturb. */
    skipAway: boolean;
  };
}

/** base64url of 32 random bytes is 43 characters; anything far from that shape cannot be a token. */
const TOKEN_SHAPE = /^[A-Za-z0-9_-]{16,128}$/;

/** Whether `token` has the shape of a token we issue: anything else is unknown without a query. */
export function looksLikeToken(token: string): boolean {
  return TOKEN_SHAPE.test(token);
}

/** A new endpoint secret: 32 random bytes, base64url (URL-safe, no padding). */
export function issueEndpointToken(): string {
  return randomBytes(32).toString('base64url');
}

/** What the endpoints table keeps instead of the token: its SHA-256, hex. */
export function hashEndpointToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

/**
 * The endpoint with its team and rotation in one round trip: every report starts here, so this
 * is plain SQL on the pool rather than three ORM queries.
 */
const ENDPOINT_BY_TOKEN_HASH = `
  SELECT e.id, e.allowed_topic_arns AS "allowedTopicArns", e.allow_raw_delivery AS "allowRawDelivery",
         e.insufficient_data::text AS "insufficientData",
         t.id AS "teamId", t.name, COALESCE(t.workflow_name, t.name) AS "workflowName", t.slack_channel_id AS "slackChannelId",
         t.escalation_timeout_ms AS "escalationTimeoutMs", t.installation_id AS "installationId",
         t.paused_at AS "pausedAt", t.schedule_id AS "scheduleId",
         t.skip_away AS "skipAway",
         ARRAY(SELECT slack_user_id FROM engineers WHERE team_id = t.id ORDER BY position) AS engineers
  FROM endpoints e JOIN teams t ON t.id = e.team_id
  WHERE e.token_hash = $1`;

interface EndpointRow extends Omit<EndpointWithTeam, 'team'> {
  teamId: string;
  name: string;
  workflowName: string;
  slackChannelId: string;
  escalationTimeoutMs: number | null;
  installationId: string | null;
  pausedAt: Date | null;
  scheduleId: string | null;
  skipAway: boolean;
  engineers: string[];
}

/** The endpoint a token opens, or null when the token is malformed or unknown. */
export async function findEndpointByToken(db: Database, token: string): Promise<EndpointWithTeam | null> {
  if (!looksLikeToken(token)) return null;
  const { rows } = await sqlPoolOf(db).query<EndpointRow>(ENDPOINT_BY_TOKEN_HASH, [hashEndpointToken(token)]);
  const row = rows[0];
  if (!row) return null;
  return {
    id: row.id,
    allowedTopicArns: row.allowedTopicArns,
    allowRawDelivery: row.allowRawDelivery,
    insufficientData: row.insufficientData,
    team: {
      id: row.teamId,
      name: row.name,
      workflowName: row.workflowName,
      slackChannelId: row.slackChannelId,
      escalationTimeoutMs: row.escalationTimeoutMs,
      engineers: row.engineers,
      installationId: row.installationId,
      pausedAt: row.pausedAt,
      scheduleId: row.scheduleId,
      skipAway: row.skipAway,
    },
  };
}
