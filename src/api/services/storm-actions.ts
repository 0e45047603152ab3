/**
 * The storm digest's buttons (docs/storm.md): Acknowledge all, Close all. A press becomes one press
 * per alert of the storm in the intake journal, the same entry a press on the alert's own message
 * makes, so that each reaches its workflow in order with the alert's other reports, and nobody is
 * paged about it afterwards.
 */
import { inSqlTransaction, sqlPoolOf, type Database } from '../../db/client';
import type { AlertAction } from '../../domain/alert';
import { journalPartition, lockWorkflowJournals, type JournalEntry } from '../../intake/journal';
import { journalWritten } from '../../intake/wake';

/** A press of a digest button: the storm it names, and who pressed. */
export interface StormPress {
  /** The storm's channel, from the button's value. */
  channelId: string;
  /** The storm's start: alerts the channel took since then belong to it. */
  since: Date;
  /** The conversation the pressed message is in: it must be the storm's channel. */
  pressedInChannelId: string;
  action: Extract<AlertAction, 'ack' | 'close'>;
  userId: string;
  userName?: string;
  pressId: string;
}

export type StormPressOutcome = { kind: 'recorded'; alerts: number } | { kind: 'other-channel' };

/** Alerts written per transaction: each takes its alert's journal lock, as any press does. */
const BATCH = 500;
/** The most alerts one press acts on; a storm larger than this needs a second press. */
export const MAX_ALERTS_PER_STORM_PRESS = 50_000;

/**
 * Journals the press for every alert of the storm it may act on: Acknowledge all, those still
 * open; Close all, those open or acknowledged. Batches commit one after another; should the process
 * die between two, pressing again acts on the rest (an alert acts on a press once).
 */
export async function recordStormPress(db: Database, press: StormPress): Promise<StormPressOutcome> {
  if (press.pressedInChannelId !== press.channelId) return { kind: 'other-channel' };
  const states = press.action === 'ack' ? ['open'] : ['open', 'acknowledged'];
  const { rows } = await sqlPoolOf(db).query<{ workflow_id: string }>(
    `SELECT a.workflow_id FROM alerts a JOIN teams t ON t.id = a.team_id
      WHERE t.slack_channel_id = $1 AND a.first_seen_at >= $2 AND a.state::text = ANY($3::text[])
      ORDER BY a.first_seen_at LIMIT $4`,
    [press.channelId, press.since, states, MAX_ALERTS_PER_STORM_PRESS]
  );
  const workflowIds = rows.map((row) => row.workflow_id);
  for (let start = 0; start < workflowIds.length; start += BATCH) {
    const batch = workflowIds.slice(start, start + BATCH).sort();
    const entries = batch.map((workflowId): JournalEntry => ({
      kind: 'action',
      workflowId,
      signal: { action: press.action, userId: press.userId, userName: press.userName, pressId: press.pressId },
    }));
    const partitions = batch.map(journalPartition);
    await inSqlTransaction(db, async (sql) => {
      // In workflow id order, so that two storm presses never wait on each other's locks.
      await lockWorkflowJournals(sql, batch);
      await sql.query(
        `INSERT INTO intake_journal (workflow_id, partition, kind, payload)
           SELECT w, p, 'action', e FROM unnest($1::text[], $2::int[], $3::jsonb[]) AS x(w, p, e)`,
        [batch, partitions, entries.map((entry) => JSON.stringify(entry))]
      );
    });
    for (const partition of new Set(partitions)) journalWritten(db, partition);
  }
  return { kind: 'recorded', alerts: workflowIds.length };
}
