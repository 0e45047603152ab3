/**
 * The intake journal: the one durable write behind every 2xx the gateway gives a sender or a
 * button press. Each entry becomes one signal to its alert's workflow; the dispatcher
 * (dispatcher.ts) hands entries over in `id` order per workflow, and the workflow drops an id it
 * has already seen, so that an entry sent twice (a dispatcher killed between the signal and its
 * bookkeeping) still acts once.
 */
import { createHash } from 'node:crypto';
import type { PoolClient } from 'pg';
import { sqlPoolOf, type Database } from '../db/client';
import type { AlertActionTaken, AlertOccurrence, AlertResolution, AlertWorkflowInput } from '../workflows/definitions';

/** Dispatcher locks: each gateway's dispatcher holds some, so several share the work and take over from a dead one. */
export const JOURNAL_PARTITIONS = 16;

/** PostgreSQL NOTIFY channel: a committed entry wakes the other processes' dispatchers at once instead of at their next poll (wake.ts). */
export const JOURNAL_CHANNEL = 'intake_journal';

/** What an entry becomes in Temporal. `reportId` is the entry's id, filled in when it is sent. */
export type JournalEntry =
  | {
      kind: 'occurrence';
      workflowId: string;
      /** A firing opens its alert's workflow when none runs: signal-with-start. */
      start: {
        taskQueue: string;
        input: AlertWorkflowInput;
        summary: string;
      };
      signal: Omit<AlertOccurrence, 'reportId'>;
    }
  | { kind: 'resolution'; workflowId: string; signal: Omit<AlertResolution, 'reportId'> }
  | { kind: 'action'; workflowId: string; signal: Omit<AlertActionTaken, 'reportId'> };

export type JournalKind = JournalEntry['kind'];

/** Entries that stop paging: once one is answered, no mention or DM of its alert may follow. */
export const STOPPING_KINDS: readonly JournalKind[] = ['resolution', 'action'];

export function journalPartition(workflowId: string): number {
  return createHash('sha1').update(workflowId).digest().readUInt16BE(0) % JOURNAL_PARTITIONS;
}

/**
 * Seed of the hash that makes a workflow id its journal lock's key (see lockWorkflowJournal). The
 * intake functions in prisma/migrations (`intake_take_firings`, `intake_take_press`) lock with the
 * same seed, written there as a literal.
 */
const WORKFLOW_JOURNAL_LOCK_SEED = 7;

/**
 * Makes the writers of one workflow's entries take turns until they commit. Entry ids come from a
 * sequence, which is not commit order: without this, two reports of one alert could become
 * visible to the dispatcher in the opposite order of their ids.
 */
export async function lockWorkflowJournal(sql: PoolClient, workflowId: string): Promise<void> {
  await sql.query(`SELECT pg_advisory_xact_lock(hashtextextended($1, ${WORKFLOW_JOURNAL_LOCK_SEED}))`, [workflowId]);
}

/** lockWorkflowJournal for many workflows at once, in the order given (sort them: two callers never deadlock). */
export async function lockWorkflowJournals(sql: PoolClient, workflowIds: string[]): Promise<void> {
  await sql.query(
    `SELECT pg_advisory_xact_lock(hashtextextended(w, ${WORKFLOW_JOURNAL_LOCK_SEED})) FROM unnest($1::text[]) AS w`,
    [workflowIds]
  );
}

/**
 * Appends an entry inside the caller's transaction. Once that commits, the caller wakes the
 * dispatchers (`journalWritten`, wake.ts).
 */
export async function appendToJournal(sql: PoolClient, entry: JournalEntry): Promise<number> {
  const { rows } = await sql.query<{ id: string }>(
    'INSERT INTO intake_journal (workflow_id, partition, kind, payload) VALUES ($1, $2, $3, $4) RETURNING id',
    [entry.workflowId, journalPartition(entry.workflowId), entry.kind, JSON.stringify(entry)]
  );
  return Number(rows[0]?.id);
}

/**
 * Whether a press or a resolution for this workflow was taken after entry `seenReportId`: the
 * workflow has not acted on it yet, but its sender has been answered, so nobody may be paged.
 */
export async function stopTakenSince(db: Database, workflowId: string, seenReportId: number): Promise<boolean> {
  const { rowCount } = await sqlPoolOf(db).query(
    'SELECT 1 FROM intake_journal WHERE workflow_id = $1 AND id > $2 AND kind = ANY($3::text[]) LIMIT 1',
    [workflowId, seenReportId, [...STOPPING_KINDS]]
  );
  return (rowCount ?? 0) > 0;
}
