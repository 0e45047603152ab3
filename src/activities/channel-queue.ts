/**
 * A channel's queue of alert messages waiting for their turn, in PostgreSQL (`slack_channel_posts`,
 * migration 20261207100000_channel_post_queue; docs/storm.md). The alert asks once; the channel's
 * pacer workflow grants the best waiting posts round by round as the channel's bucket allows. No
 * workflow holds the queue: a storm of any size is rows here, and the pacer keeps a cursor.
 */
import { sqlPoolOf, type Database } from '../db/client';
import { SEVERITIES, type AlertState, type Severity } from '../domain/alert';
import { DEFAULT_CHANNEL_PACE, type ChannelPace } from '../domain/channel-pace';
import type { ChannelDigestView, DigestAlert, WithdrawnDigestAlert } from '../slack/digest-message';

/** A post is asked for: taken at once in a quiet channel, else queued (and maybe the pacer must be woken). */
export interface ChannelPostAsk {
  channelId: string;
  requestId: string;
  workflowId: string;
  alertId: string;
  severity: Severity;
  title: string;
  horizonMs: number;
  pauseUntil?: number;
  pace?: Partial<ChannelPace>;
}

export interface ChannelPostAnswer {
  /** Taken at once: the slot (epoch ms). */
  slot?: number;
  /** Posts queued before it (counted up to 1,000). */
  ahead: number;
  /** Nobody has told the pacer yet: the caller wakes it. */
  wake: boolean;
}

/** One post the pacer granted: its alert is told by signal. */
export interface ChannelGrant {
  requestId: string;
  workflowId: string;
  slot: number;
}

/** What one round of the pacer did and saw. */
export interface ChannelRound {
  grants: ChannelGrant[];
  /** When the bucket gives the next slot, if posts still wait (epoch ms). */
  nextSlotAt?: number;
  waiting: number;
  /** The storm under way, since (epoch ms). */
  stormSince?: number;
  /** When the channel's newest post was asked for (epoch ms). */
  lastRequestAt?: number;
}

/** A pacer's round, asked with the round's own name so that a retried round returns its grants. */
export interface ChannelRoundAsk {
  channelId: string;
  round: string;
  pauseUntil?: number;
  pace?: Partial<ChannelPace>;
}

/** What became of a post whose alert ended while it waited (see `withdraw_channel_post`). */
export type ChannelWithdrawal = 'withdrawn' | 'waits' | 'gone';

/** A queued post's wake of the pacer is repeated when the pacer has not been heard from for this long. */
export const PACER_STALE_AFTER_MS = 60_000;
/** Grants per round at most: each is a signal the pacer awaits before its next round. */
const GRANTS_PER_ROUND = 4;
/** Titles and waiting posts the digest names (it counts the rest). */
const DIGEST_NAMES = 10;

/** Creates the queue's statements over the database. */
export function createChannelQueue(db: Database) {
  const sql = () => sqlPoolOf(db);

  /** Asks for a post's turn: a slot now in a quiet channel, else a place in the queue. */
  async function requestPost(ask: ChannelPostAsk): Promise<ChannelPostAnswer> {
    const pace = { ...DEFAULT_CHANNEL_PACE, ...ask.pace };
    const { rows } = await sql().query<{ slot: number | null; taken: boolean; ahead: string; wake: boolean }>(
      'SELECT * FROM request_channel_post($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)',
      [
        ask.channelId,
        ask.requestId,
        ask.workflowId,
        ask.alertId,
        ask.severity,
        SEVERITIES.indexOf(ask.severity),
        ask.title,
        Date.now(),
        ask.horizonMs,
        pace.postsPerSecond,
        pace.burst,
        pace.reservedForCalls,
        ask.pauseUntil ?? null,
        PACER_STALE_AFTER_MS,
      ]
    );
    const row = rows[0] as { slot: number | null; taken: boolean; ahead: string; wake: boolean };
    return {
      slot: row.taken && row.slot !== null ? Math.ceil(row.slot) : undefined,
      ahead: Number(row.ahead),
      wake: row.wake,
    };
  }

  /** One round of the pacer: grants as many posts as the bucket allows now (a few at most). */
  async function grantPosts(ask: ChannelRoundAsk): Promise<ChannelRound> {
    const pace = { ...DEFAULT_CHANNEL_PACE, ...ask.pace };
    const { rows } = await sql().query<{
      grants: ChannelGrant[];
      next_slot: number | null;
      waiting: string;
      storm_since: number | null;
      last_request_at: number | null;
    }>('SELECT * FROM grant_channel_posts($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)', [
      ask.channelId,
      ask.round,
      Date.now(),
      pace.grantAheadMs,
      pace.postsPerSecond,
      pace.burst,
      pace.reservedForCalls,
      ask.pauseUntil ?? null,
      GRANTS_PER_ROUND,
      pace.stormThreshold,
    ]);
    const row = rows[0];
    if (!row) return { grants: [], waiting: 0 };
    return {
      grants: row.grants.map((grant) => ({ ...grant, slot: Math.ceil(grant.slot) })),
      nextSlotAt: row.next_slot === null ? undefined : Math.ceil(row.next_slot),
      waiting: Number(row.waiting),
      stormSince: row.storm_since ?? undefined,
      lastRequestAt: row.last_request_at === null ? undefined : Math.floor(row.last_request_at),
    };
  }

  /** A post's alert ended while it waited: withdrawn in a storm or behind others, else posted in its final state at its turn. */
  async function withdrawPost(
    channelId: string,
    requestId: string,
    state: 'closed' | 'resolved'
  ): Promise<ChannelWithdrawal> {
    const { rows } = await sql().query<{ outcome: ChannelWithdrawal }>(
      'SELECT withdraw_channel_post($1, $2, $3, $4) AS outcome',
      [channelId, requestId, state, Date.now()]
    );
    return rows[0]?.outcome ?? 'gone';
  }

  /** The pacer lets the channel go; false while posts wait (the pacer carries on). */
  async function releasePosts(channelId: string): Promise<boolean> {
    const { rows } = await sql().query<{ released: boolean }>('SELECT release_channel_posts($1) AS released', [
      channelId,
    ]);
    return rows[0]?.released ?? true;
  }

  /** The storm is over: a post that ends while it waits is posted in its final state again. */
  async function endStorm(channelId: string): Promise<void> {
    await sql().query('UPDATE slack_channel_pace SET storm_since = NULL WHERE channel_id = $1', [channelId]);
  }

  /** Channels whose posts wait while their pacer has not been heard from for a while (a pacer lost). */
  async function channelsWithoutPacer(): Promise<string[]> {
    const { rows } = await sql().query<{ channel_id: string }>(
      `SELECT DISTINCT q.channel_id FROM slack_channel_posts q
         LEFT JOIN slack_channel_pace p ON p.channel_id = q.channel_id
        WHERE q.status = 'waiting' AND (p.pacer_awake_at IS NULL OR p.pacer_awake_at < $1)`,
      [Date.now() - PACER_STALE_AFTER_MS]
    );
    return rows.map((row) => row.channel_id);
  }

  /**
   * The storm as the digest shows it, read here rather than carried by the pacer: every alert the
   * gateway took for the channel since the storm began is counted (also those whose workflow has
   * not asked for its turn yet), by severity and state.
   */
  async function stormView(channelId: string, since: number, endedAt?: string): Promise<ChannelDigestView> {
    const sinceAt = new Date(since);
    const [byKind, newest, critical, waitingCount, waiting, withdrawnCount, withdrawn] = await Promise.all([
      sql().query<{ severity: string; state: AlertState; alerts: string; posted: string }>(
        `SELECT a.severity, a.state, count(*) AS alerts, count(a.slack_message_ts) AS posted
           FROM alerts a JOIN teams t ON t.id = a.team_id
          WHERE t.slack_channel_id = $1 AND a.first_seen_at >= $2
          GROUP BY a.severity, a.state`,
        [channelId, sinceAt]
      ),
      alertsSince(channelId, sinceAt, '', DIGEST_NAMES),
      alertsSince(
        channelId,
        sinceAt,
        "AND a.severity = 'critical' AND a.state IN ('open', 'acknowledged')",
        DIGEST_NAMES
      ),
      sql().query<{ count: string }>(
        "SELECT count(*) FROM slack_channel_posts WHERE channel_id = $1 AND status = 'waiting'",
        [channelId]
      ),
      sql().query<{ alert_id: string; title: string; severity: Severity }>(
        `SELECT alert_id, title, severity FROM slack_channel_posts WHERE channel_id = $1 AND status = 'waiting'
          ORDER BY severity_rank, id LIMIT $2`,
        [channelId, DIGEST_NAMES]
      ),
      sql().query<{ count: string }>(
        "SELECT count(*) FROM slack_channel_posts WHERE channel_id = $1 AND status = 'withdrawn'",
        [channelId]
      ),
      sql().query<{ alert_id: string; title: string; severity: Severity; ended_state: 'closed' | 'resolved' }>(
        `SELECT alert_id, title, severity, ended_state FROM slack_channel_posts
          WHERE channel_id = $1 AND status = 'withdrawn' ORDER BY id DESC LIMIT $2`,
        [channelId, DIGEST_NAMES]
      ),
    ]);
    const counts = Object.fromEntries(SEVERITIES.map((severity) => [severity, 0])) as Record<Severity, number>;
    const states: Record<AlertState, number> = { open: 0, acknowledged: 0, closed: 0, resolved: 0 };
    let posted = 0;
    for (const row of byKind.rows) {
      const severity = (SEVERITIES as readonly string[]).includes(row.severity) ? (row.severity as Severity) : 'info';
      counts[severity] += Number(row.alerts);
      states[row.state] += Number(row.alerts);
      posted += Number(row.posted);
    }
    return {
      channelId,
      startedAt: sinceAt.toISOString(),
      endedAt,
      counts,
      states,
      posted,
      newest,
      critical,
      waitingCount: Number(waitingCount.rows[0]?.count ?? 0),
      waiting: waiting.rows.map(({ alert_id, title, severity }) => ({ alertId: alert_id, title, severity })),
      withdrawnCount: Number(withdrawnCount.rows[0]?.count ?? 0),
      withdrawn: withdrawn.rows.map(({ alert_id, title, severity, ended_state }): WithdrawnDigestAlert => ({
        alertId: alert_id,
        title,
        severity,
        state: ended_state,
      })),
    };
  }

  async function alertsSince(
    channelId: string,
    since: Date,
    filter: string,
    limit: number
  ): Promise<Array<DigestAlert & { state: AlertState }>> {
    const { rows } = await sql().query<{ id: string; title: string; severity: string; state: AlertState }>(
      `SELECT a.id, a.title, a.severity, a.state FROM alerts a JOIN teams t ON t.id = a.team_id
        WHERE t.slack_channel_id = $1 AND a.first_seen_at >= $2 ${filter}
        ORDER BY a.first_seen_at DESC LIMIT $3`,
      [channelId, since, limit]
    );
    return rows.map((row) => ({
      alertId: row.id,
      title: row.title,
      severity: (SEVERITIES as readonly string[]).includes(row.severity) ? (row.severity as Severity) : 'info',
      state: row.state,
    }));
  }

  return { requestPost, grantPosts, withdrawPost, releasePosts, endStorm, channelsWithoutPacer, stormView };
}

export type ChannelQueue = ReturnType<typeof createChannelQueue>;
