/**
 * The dispatcher: takes intake journal entries to their workflows, in order per workflow, behind
 * the gateway's answers. One runs in every gateway process.
 *
 * The journal is split into partitions; a dispatcher works only on partitions whose PostgreSQL
 * session lock it holds, on a connection of its own. Several gateways therefore share the work,
 * and when one dies (even by kill -9) its session ends, its locks go with it, and the others take
 * its partitions over. A dispatcher holds locks only while its Temporal answers, so that one cut
 * off from Temporal leaves its partitions to one that is not.
 *
 * An entry is marked dispatched after Temporal took its signal: a crash in between sends it again,
 * and the workflow drops the id it has already seen.
 */
import type { Client } from '@temporalio/client';
import { WorkflowNotFoundError } from '@temporalio/common';
import { Client as PgClient } from 'pg';
import { COMMIT_WITHOUT_WAITING_FOR_DISK, sqlPoolOf, type Database } from '../db/client';
import type { Logger } from '../logger';
import type { Metrics } from '../observability/metrics';
import { callTemporal, TemporalUnavailableError } from '../temporal/calls';
import {
  ALERT_WORKFLOW_TYPE,
  actionSignal,
  initialAlertSearchAttributes,
  occurrenceSignal,
  resolutionSignal,
  type AlertActionTaken,
  type AlertOccurrence,
  type AlertWorkflowInput,
} from '../workflows/definitions';
import { JOURNAL_CHANNEL, JOURNAL_PARTITIONS, type JournalEntry } from './journal';
import { addLocalDispatcher } from './wake';

export interface DispatcherDeps {
  db: Database;
  temporal: Client;
  log: Logger;
  metrics?: Metrics;
  /** How often to look for entries when no notification came (a missed one, another gateway's). */
  pollIntervalMs?: number;
  /** Workflows signalled at once. */
  concurrency?: number;
}

export interface Dispatcher {
  /** Stops taking entries, waits for the round in flight and gives the partitions up. */
  close(): Promise<void>;
}

/** First key of the partition locks (pg_advisory_lock(int, int)); the second is the partition. */
const PARTITION_LOCK_CLASS = 0x45534331;
/** Entries read per round; a round's workflows are signalled concurrently. */
const ROUND_SIZE = 500;
const DEFAULT_CONCURRENCY = 16;
const DEFAULT_POLL_INTERVAL_MS = 1_000;
/** A signal to Temporal that takes longer than this counts as Temporal not answering. */
const SIGNAL_TIMEOUT_MS = 5_000;
const MAX_BACKOFF_MS = 15_000;
/** An entry that fails this often for a reason other than Temporal's absence is set aside, with its error kept. */
const MAX_ATTEMPTS = 20;
/** Dispatched entries are kept this long: paging steps look for presses taken since they began. */
const KEEP_DISPATCHED_MS = 60 * 60_000;
const CLEANUP_INTERVAL_MS = 5 * 60_000;
const TAKE_INTERVAL_MS = 1_000;
/**
 * After a round that relayed entries, the next starts no sooner than this, however soon new
 * entries come: while reports stream in (a storm repeating one alert), each round then folds more
 * of them into one signal per alert, and Temporal gets at most one signal per alert per this
 * interval. An idle dispatcher still starts at once on a notification.
 */
const GATHER_MS = 50;
/** At shutdown, entries still waiting are relayed for at most this long. */
const FINAL_RELAY_MS = 5_000;

type AlertWorkflow = (input: AlertWorkflowInput) => Promise<unknown>;

export interface PendingEntry {
  id: number;
  workflowId: string;
  entry: JournalEntry;
  createdAt: Date;
  attempts: number;
}

type DeliveryOutcome = 'signalled' | 'started' | 'workflow-gone';

/**
 * One workflow's entries (in id order) cut into signals: each run of consecutive occurrences of the
 * same alert is one signal, every other entry one of its own. A storm of repeats of one alert thus
 * costs Temporal one signal per round, not one per report.
 */
export function foldRepeats(chain: readonly PendingEntry[]): PendingEntry[][] {
  const batches: PendingEntry[][] = [];
  for (const pending of chain) {
    const last = batches[batches.length - 1];
    const previous = last?.[last.length - 1];
    const sameAlertAgain =
      previous?.entry.kind === 'occurrence' &&
      pending.entry.kind === 'occurrence' &&
      previous.entry.signal.alertId === pending.entry.signal.alertId;
    if (last && sameAlertAgain) last.push(pending);
    else batches.push([pending]);
  }
  return batches;
}

/** Starts working in the background (it connects on its first round) and returns at once. */
export function startDispatcher(deps: DispatcherDeps): Dispatcher {
  const { db, temporal, log, metrics } = deps;
  const pool = sqlPoolOf(db);
  const pollIntervalMs = deps.pollIntervalMs ?? DEFAULT_POLL_INTERVAL_MS;
  const concurrency = deps.concurrency ?? DEFAULT_CONCURRENCY;
  const owned = new Set<number>();
  let session: PgClient | undefined;
  let closed = false;
  let backoffMs = 0;
  let lastCleanupAt = 0;
  let lastTakeAt = 0;
  /** Whether the last round relayed anything: then the next one gathers first. */
  let relayedLastRound = false;
  /** A notification that came while a round ran: the next sleep is cut short. */
  let woken = false;
  let wake: (() => void) | undefined;

  /** New entries are waiting: the next round starts now, or as soon as the one running ends. */
  function wakeUp(): void {
    woken = true;
    wake?.();
  }
  // Writers in this process wake it directly for the partitions it holds (wake.ts).
  const removeLocalWaker = addLocalDispatcher(db, { owns: (partition) => owned.has(partition), wake: wakeUp });

  /** The connection that holds the partition locks and listens for new entries. */
  async function openSession(): Promise<PgClient> {
    const client = new PgClient(pool.options);
    client.on('error', (error) => {
      log.warn({ err: error }, 'intake dispatcher lost its PostgreSQL session; partitions given up');
      owned.clear();
      if (session === client) session = undefined;
    });
    client.on('notification', wakeUp);
    await client.connect();
    await client.query(`LISTEN ${JOURNAL_CHANNEL}`);
    return client;
  }

  async function temporalAnswers(): Promise<boolean> {
    try {
      await callTemporal(temporal, 'Temporal health check', SIGNAL_TIMEOUT_MS, () =>
        temporal.workflowService.getSystemInfo({})
      );
      return true;
    } catch {
      return false;
    }
  }

  async function takeFreePartitions(client: PgClient): Promise<void> {
    if (owned.size === JOURNAL_PARTITIONS) return;
    const free = [...Array(JOURNAL_PARTITIONS).keys()].filter((partition) => !owned.has(partition));
    const { rows } = await client.query<{ partition: number; taken: boolean }>(
      'SELECT p AS partition, pg_try_advisory_lock($1, p) AS taken FROM unnest($2::int[]) AS p',
      [PARTITION_LOCK_CLASS, free]
    );
    for (const row of rows) if (row.taken) owned.add(row.partition);
  }

  async function giveUpPartitions(client: PgClient | undefined): Promise<void> {
    if (owned.size === 0) return;
    const mine = [...owned];
    owned.clear();
    await client
      ?.query('SELECT pg_advisory_unlock($1, p) FROM unnest($2::int[]) AS p', [PARTITION_LOCK_CLASS, mine])
      .catch(() => undefined);
  }

  /**
   * The oldest waiting entries of this dispatcher's partitions, with this round's try counted for
   * each before any is sent, so that an entry found again later is known to have maybe reached
   * Temporal already (a crash between its signal and its mark). `attempts` is the count before
   * this round. One statement: only this dispatcher works on these partitions.
   */
  async function takePending(): Promise<PendingEntry[]> {
    const { rows } = await pool.query<{
      id: string;
      workflow_id: string;
      payload: JournalEntry;
      created_at: Date;
      attempts: number;
    }>(
      `WITH taken AS (
         UPDATE intake_journal SET attempts = attempts + 1
         WHERE id IN (SELECT id FROM intake_journal
                      WHERE dispatched_at IS NULL AND partition = ANY($1::int[]) ORDER BY id LIMIT $2)
         RETURNING id, workflow_id, payload, created_at, attempts - 1 AS attempts)
       SELECT * FROM taken ORDER BY id`,
      [[...owned], ROUND_SIZE]
    );
    return rows.map((row) => ({
      id: Number(row.id),
      workflowId: row.workflow_id,
      entry: row.payload,
      createdAt: row.created_at,
      attempts: row.attempts,
    }));
  }

  /**
   * Among occurrences tried before, the alerts whose workflow has already run (it wrote to their
   * timeline): sending one of those again must not start the alert over in a new run once the
   * first has ended, so it may only reach a workflow that still runs.
   */
  async function alertsAlreadyHandled(entries: PendingEntry[]): Promise<Set<string>> {
    const ids = entries.flatMap(({ entry, attempts }) =>
      entry.kind === 'occurrence' && attempts > 0 ? [entry.signal.alertId] : []
    );
    if (ids.length === 0) return new Set();
    const { rows } = await pool.query<{ alert_id: string }>(
      `SELECT DISTINCT alert_id FROM alert_events WHERE alert_id = ANY($1::uuid[]) AND key NOT LIKE 'gateway/%'`,
      [ids]
    );
    return new Set(rows.map((row) => row.alert_id));
  }

  /**
   * Sends one signal: one entry, or a run of one alert's occurrences folded into the last of them
   * (`earlierReportIds`), which carries the latest content.
   */
  async function deliver(batch: PendingEntry[], handled: Set<string>): Promise<DeliveryOutcome> {
    const { id, entry } = batch[batch.length - 1] as PendingEntry;
    const what = `${entry.kind} #${id} to ${entry.workflowId}`;
    const handle = () => temporal.workflow.getHandle(entry.workflowId);
    try {
      switch (entry.kind) {
        case 'occurrence': {
          const earlierReportIds = batch.slice(0, -1).map((earlier) => earlier.id);
          const signal: AlertOccurrence = {
            ...entry.signal,
            reportId: id,
            ...(earlierReportIds.length > 0 ? { earlierReportIds } : {}),
          };
          if (handled.has(entry.signal.alertId)) {
            await callTemporal(temporal, what, SIGNAL_TIMEOUT_MS, () => handle().signal(occurrenceSignal, signal));
            return 'signalled';
          }
          await callTemporal(temporal, what, SIGNAL_TIMEOUT_MS, () =>
            temporal.workflow.signalWithStart<AlertWorkflow, [AlertOccurrence]>(ALERT_WORKFLOW_TYPE, {
              workflowId: entry.workflowId,
              taskQueue: entry.start.taskQueue,
              args: [entry.start.input],
              signal: occurrenceSignal,
              signalArgs: [signal],
              typedSearchAttributes: initialAlertSearchAttributes(
                entry.start.input.team.name,
                entry.start.input.content
              ),
              staticSummary: entry.start.summary,
            })
          );
          return 'started';
        }
        case 'resolution':
          await callTemporal(temporal, what, SIGNAL_TIMEOUT_MS, () =>
            handle().signal(resolutionSignal, { ...entry.signal, reportId: id })
          );
          return 'signalled';
        case 'action':
          await callTemporal(temporal, what, SIGNAL_TIMEOUT_MS, () =>
            handle().signal(actionSignal, { ...entry.signal, reportId: id })
          );
          return 'signalled';
      }
    } catch (error) {
      if (!(error instanceof WorkflowNotFoundError)) throw error;
      if (entry.kind === 'resolution') await resolveWithoutWorkflow(entry.signal.alertId);
      if (entry.kind === 'action' && entry.signal.action === 'close' && entry.signal.reason) {
        await closeWithoutWorkflow(entry.workflowId, entry.signal);
      }
      log.info(
        { workflowId: entry.workflowId, kind: entry.kind, reportId: id },
        'the alert had ended: nothing to signal'
      );
      return 'workflow-gone';
    }
  }

  /**
   * A close with a reason (its team was deleted) for an alert whose workflow is gone (an operator
   * terminated it): nothing else would ever end it, so it is ended here, and its timeline says so.
   */
  async function closeWithoutWorkflow(workflowId: string, close: Omit<AlertActionTaken, 'reportId'>): Promise<void> {
    const by = close.userName ?? close.userId;
    await pool.query(
      `WITH closed AS (
         UPDATE alerts SET state = 'closed', open_fingerprint = NULL, ended_by = $2, ended_at = now(), updated_at = now()
          WHERE workflow_id = $1 AND state IN ('open', 'acknowledged')
          RETURNING id)
       INSERT INTO alert_events (id, alert_id, key, type, actor, message, data)
       SELECT gen_random_uuid(), id, 'dispatcher/closed/' || id, 'closed', $3,
              'Closed by ' || $2 || ': ' || $4 || ' (its workflow was no longer running)', jsonb_build_object('reason', $4::text)
         FROM closed
       ON CONFLICT (key) DO NOTHING`,
      [workflowId, by, close.userId, close.reason]
    );
  }

  /**
   * The source resolved an alert whose workflow is gone (an operator terminated it): the intake
   * has ended it in the database already; what the workflow would have written to its timeline is
   * written here, once.
   */
  async function resolveWithoutWorkflow(alertId: string): Promise<void> {
    await pool.query(
      `INSERT INTO alert_events (id, alert_id, key, type, actor, message)
       SELECT gen_random_uuid(), id, 'dispatcher/resolved/' || id, 'resolved', ended_by,
              'Resolved by ' || coalesce(ended_by, 'its source') || ' (its workflow was no longer running)'
       FROM alerts WHERE id = $1
       ON CONFLICT (key) DO NOTHING`,
      [alertId]
    );
  }

  /**
   * Sends one workflow's entries in order, consecutive occurrences of one alert as one signal;
   * stops at the first signal that fails, so that none overtakes it.
   */
  async function deliverChain(chain: PendingEntry[], handled: Set<string>): Promise<{ temporalDown: boolean }> {
    const delivered: number[] = [];
    let temporalDown = false;
    for (const batch of foldRepeats(chain)) {
      try {
        const outcome = await deliver(batch, handled);
        for (const pending of batch) {
          delivered.push(pending.id);
          metrics?.intakeDispatched.inc({ kind: pending.entry.kind, outcome });
          metrics?.intakeDispatchDelay.observe(
            { kind: pending.entry.kind },
            (Date.now() - pending.createdAt.getTime()) / 1000
          );
        }
      } catch (error) {
        temporalDown = error instanceof TemporalUnavailableError;
        // The entries of a fold succeed or fail together; the last one carries the error.
        await recordFailure(batch[batch.length - 1] as PendingEntry, error as Error, temporalDown);
        break;
      }
    }
    if (delivered.length > 0) {
      // Committed without waiting for the disk: a mark lost in a crash of PostgreSQL or the
      // machine only sends the entries again, with their tries counted (takePending), and the
      // workflow drops a report it has seen. Waiting for the disk here was half the intake's
      // fsyncs under an open loop.
      await pool.query(
        `UPDATE intake_journal SET dispatched_at = now()
         FROM (SELECT ${COMMIT_WITHOUT_WAITING_FOR_DISK}) AS async_commit
         WHERE id = ANY($1::bigint[])`,
        [delivered]
      );
    }
    return { temporalDown };
  }

  async function recordFailure(pending: PendingEntry, error: Error, temporalDown: boolean): Promise<void> {
    // This round's try is counted already (takePending).
    const setAside = !temporalDown && pending.attempts + 1 >= MAX_ATTEMPTS;
    if (setAside) {
      log.error({ err: error, reportId: pending.id, workflowId: pending.workflowId }, 'intake entry set aside');
    } else if (!temporalDown) {
      log.warn({ err: error, reportId: pending.id, workflowId: pending.workflowId }, 'intake entry not delivered');
    }
    await pool.query(
      `UPDATE intake_journal SET last_error = $2,
         dispatched_at = CASE WHEN $3::boolean THEN now() ELSE dispatched_at END
       WHERE id = $1`,
      [pending.id, error.message.slice(0, 2_000), setAside]
    );
    if (setAside) metrics?.intakeDispatched.inc({ kind: pending.entry.kind, outcome: 'set-aside' });
  }

  /** One round: the oldest waiting entries of this dispatcher's partitions. Returns how many were read. */
  async function dispatchRound(): Promise<{ read: number; temporalDown: boolean }> {
    const pending = await takePending();
    if (pending.length === 0) return { read: 0, temporalDown: false };
    const chains = new Map<string, PendingEntry[]>();
    for (const entry of pending) chains.set(entry.workflowId, [...(chains.get(entry.workflowId) ?? []), entry]);
    const handled = await alertsAlreadyHandled(pending);
    const queue = [...chains.values()];
    let temporalDown = false;
    await Promise.all(
      Array.from({ length: Math.min(concurrency, queue.length) }, async () => {
        for (let chain = queue.shift(); chain && !temporalDown; chain = queue.shift()) {
          if ((await deliverChain(chain, handled)).temporalDown) temporalDown = true;
        }
      })
    );
    return { read: pending.length, temporalDown };
  }

  async function cleanUp(): Promise<void> {
    if (Date.now() - lastCleanupAt < CLEANUP_INTERVAL_MS) return;
    lastCleanupAt = Date.now();
    await pool.query(
      `DELETE FROM intake_journal WHERE id IN (
         SELECT id FROM intake_journal WHERE dispatched_at < $1 LIMIT 10000)`,
      [new Date(Date.now() - KEEP_DISPATCHED_MS)]
    );
  }

  /**
   * Waits `ms`, or less when a notification comes, but never less than `atLeastMs` from now: after
   * a round that relayed something, the next one gathers for a moment (see GATHER_MS).
   */
  function sleep(ms: number, atLeastMs: number): Promise<void> {
    const earliest = Date.now() + atLeastMs;
    return new Promise((resolve) => {
      let timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        wake = undefined;
        woken = false;
        resolve();
      }
      function wakeUp() {
        clearTimeout(timer);
        timer = setTimeout(done, Math.max(0, earliest - Date.now()));
      }
      if (woken) wakeUp();
      else wake = wakeUp;
    });
  }

  async function step(): Promise<number> {
    session ??= await openSession();
    // Free partitions (never taken, or left by a dispatcher that stopped) are looked for now and
    // then, and only while this dispatcher's Temporal answers.
    if (owned.size < JOURNAL_PARTITIONS && Date.now() - lastTakeAt >= TAKE_INTERVAL_MS) {
      lastTakeAt = Date.now();
      if (!(await temporalAnswers())) throw new TemporalUnavailableError('Temporal does not answer');
      await takeFreePartitions(session);
    }
    if (owned.size === 0) return pollIntervalMs;
    const round = await dispatchRound();
    relayedLastRound = round.read > 0;
    if (round.temporalDown) throw new TemporalUnavailableError('Temporal stopped answering during a round');
    await cleanUp();
    return round.read === ROUND_SIZE ? 0 : pollIntervalMs;
  }

  const running = (async () => {
    while (!closed) {
      let waitMs: number;
      try {
        waitMs = await step();
        backoffMs = 0;
      } catch (error) {
        // Without Temporal (or PostgreSQL) nothing can move: give the partitions to a dispatcher
        // that may do better, and try again a little later each time.
        await giveUpPartitions(session);
        lastTakeAt = 0;
        backoffMs = Math.min(Math.max(backoffMs * 2, 500), MAX_BACKOFF_MS);
        waitMs = backoffMs;
        log.warn({ err: error, retryInMs: waitMs }, 'intake dispatcher waiting');
      }
      if (!closed && waitMs > 0) await sleep(waitMs, relayedLastRound ? GATHER_MS : 0);
    }
  })();

  return {
    async close() {
      closed = true;
      removeLocalWaker();
      wake?.();
      await running;
      // What this gateway answered last is relayed before it goes: with no other gateway running,
      // it would otherwise wait for the next start.
      const deadline = Date.now() + FINAL_RELAY_MS;
      while (owned.size > 0 && Date.now() < deadline) {
        const round = await dispatchRound().catch(() => ({ read: 0, temporalDown: true }));
        if (round.read === 0 || round.temporalDown) break;
      }
      await giveUpPartitions(session);
      await session?.end().catch(() => undefined);
    },
  };
}
