/**
 * Alert intake: where a normalised report from any source (generic webhook, SNS, Alertmanager)
 * becomes durable. Each report is one short local write: it decides what the report means (a new
 * alert, a new firing of a live one, a re-send of a firing already seen, a firing a person closed,
 * a resolution), writes that to the alert's row and timeline, and appends the signal its workflow
 * must get to the intake journal. Firings, the bulk of any storm, are one statement
 * (`intake_take_firings`) shared with the other firings of that alert that arrived meanwhile. The
 * answer goes out on commit; the dispatcher (src/intake/dispatcher.ts) takes the entry to Temporal
 * behind it. No network call is made while a transaction is open, and none of Slack's time is ever
 * a sender's.
 */
import type { PoolClient } from 'pg';
import type { Config } from '../../config';
import { inSqlTransaction, sqlPoolOf, type Database } from '../../db/client';
import type { TeamSnapshot } from '../../domain/alert';
import { alertWorkflowId } from '../../domain/fingerprint';
import { batchPerAlert } from '../../intake/alert-batches';
import type { IntakeGate } from '../../intake/gate';
import { appendToJournal, journalPartition, lockWorkflowJournal, type JournalEntry } from '../../intake/journal';
import { journalWritten } from '../../intake/wake';
import type { Logger } from '../../logger';
import { recordAlertReceived, type Metrics } from '../../observability/metrics';
import type { IncomingAlert } from '../../sources/types';
import type { EndpointWithTeam } from './endpoints';

/** The gateway's 202 body: which alert the report was counted on, and whether it already existed. */
export interface IntakeResult {
  alertId: string | null;
  workflowId: string | null;
  /** True when the report repeated a live alert, or was a redelivery or re-send of one already taken. */
  duplicate: boolean;
  /** Set when nothing was recorded, with the reason shown to the sender. */
  ignored?: string;
}

export interface AlertIntakeDeps {
  config: Config;
  db: Database;
  log: Logger;
  clock: () => number;
  /** Refuses reports (503) while Temporal cannot take them or the journal is backed up. */
  gate: IntakeGate;
  metrics?: Metrics;
}

/** The Web UI shows the summary in lists: a title of any length would swamp it. */
const SUMMARY_MAX_LENGTH = 200;

/**
 * Reports of one request taken at once. A group's alerts are independent transactions; more at a
 * time than this would only queue for the connection pool.
 */
const GROUP_CONCURRENCY = 8;

/**
 * Firings of one alert taken in one statement at most. Under 16 senders a statement takes about
 * as many; the bound keeps one statement (and its parameter) small whatever the load.
 */
const FIRINGS_PER_STATEMENT = 64;

/** What one report came to, before the answer is shaped. */
type ReportOutcome = IntakeResult & {
  /** Counted in metrics: false for redeliveries, re-sends and ignored reports. */
  counted: boolean;
};

/** What `intake_take_firings` made of a firing report (see its migration). */
type FiringOutcome = 'redelivered' | 'resent' | 'counted' | 'absorbed' | 'opened';

interface ReportContext {
  endpoint: EndpointWithTeam;
  report: IncomingAlert;
  workflowId: string;
  receivedAt: Date;
  /** `<endpoint id>/<sender's message id>`: one SNS message reaches every endpoint of its topic. */
  deliveryKey?: string;
}

/** Builds the intake over its dependencies. */
export function createAlertIntake({ config, db, log, clock, gate, metrics }: AlertIntakeDeps) {
  function teamSnapshot(team: EndpointWithTeam['team']): TeamSnapshot {
    return {
      id: team.id,
      name: team.name,
      slackChannelId: team.slackChannelId,
      engineers: team.engineers,
      escalationTimeoutMs: team.escalationTimeoutMs ?? config.escalationTimeoutMs,
      ...(team.installationId ? { installationId: team.installationId } : {}),
      ...(team.scheduleId ? { scheduleId: team.scheduleId } : {}),
      ...(team.skipAway ? { skipAway: true as const } : {}),
    };
  }

  /**
   * One report. A firing is one statement, shared with the other firings of its alert that arrived
   * meanwhile (takeFirings); a resolution is one transaction under the alert's journal lock.
   */
  async function takeReport(context: ReportContext): Promise<ReportOutcome> {
    const outcome =
      context.report.status !== 'resolved'
        ? await takeFiringWithOthers(context.workflowId, context)
        : await inSqlTransaction(db, async (sql) => {
            await lockWorkflowJournal(sql, context.workflowId);
            return (
              (await claimDelivery(sql, context)) ?? (await withDelivery(sql, context, await resolution(sql, context)))
            );
          });
    // A report is counted exactly when it appended a journal entry, now committed.
    if (outcome.counted) journalWritten(db, journalPartition(context.workflowId));
    return outcome;
  }

  const takeFiringWithOthers = batchPerAlert(takeFirings, FIRINGS_PER_STATEMENT);

  /** Remembers which alert a claimed delivery was counted on, for its redeliveries' answer. */
  async function withDelivery(sql: PoolClient, context: ReportContext, outcome: ReportOutcome) {
    if (context.deliveryKey && outcome.alertId) {
      await sql.query('UPDATE deliveries SET alert_id = $2 WHERE id = $1', [context.deliveryKey, outcome.alertId]);
    }
    return outcome;
  }

  /**
   * Firing reports of one alert, in order, in one statement (`intake_take_firings`, see its
   * migration): each is a redelivery, a re-send of a firing already seen, a new firing counted on
   * the live alert, a re-send of a firing a person closed, or the report that opens the alert.
   */
  async function takeFirings(contexts: ReportContext[]): Promise<ReportOutcome[]> {
    const { endpoint, report, workflowId } = contexts[0] as ReportContext;
    const { rows } = await sqlPoolOf(db).query<{ outcome: FiringOutcome; alert_id: string | null }>(
      'SELECT outcome, alert_id FROM intake_take_firings($1, $2, $3, $4, $5, $6)',
      [
        workflowId,
        journalPartition(workflowId),
        endpoint.team.id,
        report.fingerprint,
        JSON.stringify(
          contexts.map((context) => ({
            endpointId: context.endpoint.id,
            deliveryKey: context.deliveryKey,
            firingKey: context.report.firingKey,
            receivedAt: context.receivedAt.toISOString(),
            source: context.report.content.source,
            // The database puts the alert's id in the entry.
            entry: occurrenceEntry(context, ''),
          }))
        ),
        null, // no NOTIFY in the statement: takeReport wakes the dispatchers after it commits
      ]
    );
    return contexts.map((context, index): ReportOutcome => {
      // A redelivery answers with the alert its first delivery counted on: none if it was not counted.
      const { outcome, alert_id: alertId } = rows[index] as { outcome: FiringOutcome; alert_id: string | null };
      const logged = { alertId, workflowId, team: context.endpoint.team.name };
      switch (outcome) {
        case 'opened':
          log.info(logged, 'alert opened');
          return { alertId, workflowId, duplicate: false, counted: true };
        case 'counted':
          log.info(logged, 'alert repeated');
          return { alertId, workflowId, duplicate: true, counted: true };
        case 'resent':
        case 'redelivered':
        case 'absorbed':
          return { alertId, workflowId, duplicate: true, counted: false };
      }
    });
  }

  /** The signal a firing becomes: it starts the alert's workflow when none runs. */
  function occurrenceEntry({ endpoint, report, workflowId, receivedAt }: ReportContext, alertId: string) {
    return {
      kind: 'occurrence',
      workflowId,
      start: {
        taskQueue: config.temporal.taskQueue,
        input: {
          alertId,
          fingerprint: report.fingerprint,
          team: teamSnapshot(endpoint.team),
          content: report.content,
          ...(report.notice ? { notice: true } : {}),
        },
        summary: truncate(report.content.title, SUMMARY_MAX_LENGTH),
      },
      signal: { alertId, content: report.content, receivedAt: receivedAt.toISOString() },
    } satisfies JournalEntry;
  }

  /**
   * The source says the problem is over: the alert stops being the live one of its fingerprint at
   * once (a firing right behind the resolution opens a new alert), and its workflow is told.
   */
  async function resolution(sql: PoolClient, { endpoint, report, workflowId, receivedAt }: ReportContext) {
    const source = report.content.source;
    const { rows } = await sql.query<{ id: string }>(
      `UPDATE alerts SET state = 'resolved', open_fingerprint = NULL, ended_by = $3, ended_at = $4, updated_at = $4
       WHERE team_id = $1 AND open_fingerprint = $2 RETURNING id`,
      [endpoint.team.id, report.fingerprint, source, receivedAt]
    );
    const live = rows[0];
    if (!live) {
      return { alertId: null, workflowId, duplicate: false, ignored: 'no open alert for this key', counted: false };
    }
    await appendToJournal(sql, {
      kind: 'resolution',
      workflowId,
      signal: { alertId: live.id, receivedAt: receivedAt.toISOString(), source },
    });
    log.info({ alertId: live.id, workflowId, team: endpoint.team.name }, 'alert resolved by its source');
    return { alertId: live.id, workflowId, duplicate: false, counted: true };
  }

  function countReport(endpoint: EndpointWithTeam, report: IncomingAlert, outcome: ReportOutcome): void {
    if (!metrics || !outcome.counted) return;
    recordAlertReceived(metrics, {
      source: report.content.source,
      team: endpoint.team.name,
      severity: report.content.severity,
      status: report.status,
      duplicate: outcome.duplicate,
    });
  }

  /**
   * Takes the reports of one request (an Alertmanager group, one SNS message) and answers one
   * result per report, in order. With several reports, each gets its own delivery id
   * (`<deliveryId>#<index>`), so that a redelivery of the request acts once per report. Throws
   * TemporalUnavailableError or OverloadedError (503) before writing anything when the gate is
   * shut; a report that fails later leaves those before it taken, and the sender's retry finds them.
   */
  async function receiveAlerts(
    endpoint: EndpointWithTeam,
    reports: readonly IncomingAlert[],
    deliveryId?: string
  ): Promise<IntakeResult[]> {
    await gate.assertOpen();
    const receivedAt = new Date(clock());
    return mapInChains(reports, GROUP_CONCURRENCY, reportChain(endpoint), async (report, index) => {
      const workflowId = alertWorkflowId(endpoint.team.workflowName, report.fingerprint);
      if (report.ignoredBecause !== undefined) {
        log.info({ team: endpoint.team.name, reason: report.ignoredBecause }, 'alert report ignored');
        return { alertId: null, workflowId: null, duplicate: false, ignored: report.ignoredBecause };
      }
      const reportDeliveryId = deliveryId === undefined || reports.length === 1 ? deliveryId : `${deliveryId}#${index}`;
      const outcome = await takeReport({
        endpoint,
        report,
        workflowId,
        receivedAt,
        deliveryKey: reportDeliveryId === undefined ? undefined : `${endpoint.id}/${reportDeliveryId}`,
      });
      countReport(endpoint, report, outcome);
      return {
        alertId: outcome.alertId,
        workflowId: outcome.workflowId,
        duplicate: outcome.duplicate,
        ...(outcome.ignored ? { ignored: outcome.ignored } : {}),
      };
    });
  }

  return {
    receiveAlerts,
    /** One report; see receiveAlerts. */
    async receiveAlert(endpoint: EndpointWithTeam, report: IncomingAlert, deliveryId?: string): Promise<IntakeResult> {
      const [result] = await receiveAlerts(endpoint, [report], deliveryId);
      return result as IntakeResult;
    },
  };
}

export type AlertIntake = ReturnType<typeof createAlertIntake>;

/**
 * Records a delivery that carries the sender's own id (SNS MessageId); for one seen before,
 * returns the answer it got then. Concurrent copies wait on the unique key, so exactly one goes on.
 */
async function claimDelivery(sql: PoolClient, { endpoint, deliveryKey, workflowId }: ReportContext) {
  if (!deliveryKey) return undefined;
  const claimed = await sql.query(
    'INSERT INTO deliveries (id, endpoint_id) VALUES ($1, $2) ON CONFLICT (id) DO NOTHING',
    [deliveryKey, endpoint.id]
  );
  if (claimed.rowCount === 1) return undefined;
  const { rows } = await sql.query<{ alert_id: string | null }>('SELECT alert_id FROM deliveries WHERE id = $1', [
    deliveryKey,
  ]);
  return { alertId: rows[0]?.alert_id ?? null, workflowId, duplicate: true, counted: false };
}

/** Reports of one alert in one request go one after another, in the order the sender listed them. */
function reportChain(endpoint: EndpointWithTeam): (report: IncomingAlert) => string {
  return (report) => alertWorkflowId(endpoint.team.workflowName, report.fingerprint);
}

/**
 * Runs `work` over `items`, at most `limit` at a time, except that items of the same chain run
 * one after another in their order. Results keep the items' order.
 */
async function mapInChains<T, R>(
  items: readonly T[],
  limit: number,
  chainOf: (item: T) => string,
  work: (item: T, index: number) => Promise<R>
): Promise<R[]> {
  const chains = new Map<string, number[]>();
  items.forEach((item, index) => {
    const key = chainOf(item);
    chains.set(key, [...(chains.get(key) ?? []), index]);
  });
  const queue = [...chains.values()];
  const results = new Array<R>(items.length);
  const runners = Array.from({ length: Math.min(limit, queue.length) }, async () => {
    for (let chain = queue.shift(); chain; chain = queue.shift()) {
      for (const index of chain) results[index] = await work(items[index] as T, index);
    }
  });
  await Promise.all(runners);
  return results;
}

function truncate(text: string, maxLength: number): string {
  return text.length <= maxLength ? text : `${text.slice(0, maxLength - 1)}…`;
}
