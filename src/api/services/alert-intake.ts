/**
 * Alert intake: where a normalised report from any source (generic webhook, SNS, Alertmanager)
 * becomes durable. Each report is one short local transaction: it decides what the report means
 * (a new alert, a new firing of a live one, a re-send of a firing already seen, a firing a person
 * closed, a resolution), writes that to the alert's row and timeline, and appends the signal its
 * workflow must get to the intake journal. Repeats of a live alert, the bulk of a storm, are one
 * statement shared with the other reports of that alert that arrived meanwhile (takeRepeats).
 * The answer goes out on commit; the dispatcher
 * (src/intake/dispatcher.ts) takes the entry to Temporal behind it. No network call is made while
 * a transaction is open, and none of Slack's time is ever a sender's.
 */
import { randomUUID } from 'node:crypto';
import type { PoolClient } from 'pg';
import type { Config } from '../../config';
import { inSqlTransaction, sqlPoolOf, type Database } from '../../db/client';
import type { TeamSnapshot } from '../../domain/alert';
import { alertWorkflowId } from '../../domain/fingerprint';
import { batchPerAlert } from '../../intake/alert-batches';
import type { IntakeGate } from '../../intake/gate';
import {
  appendToJournal,
  JOURNAL_CHANNEL,
  journalPartition,
  lockWorkflowJournal,
  type JournalEntry,
} from '../../intake/journal';
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
 * Repeats of one alert taken in one statement at most. Under 16 senders a statement takes about
 * as many; the bound keeps one statement (and its parameter) small whatever the load.
 */
const REPEATS_PER_STATEMENT = 64;

/** What one report came to, before the answer is shaped. */
type ReportOutcome = IntakeResult & {
  /** Counted in metrics: false for redeliveries, re-sends and ignored reports. */
  counted: boolean;
};

/** What `intake_take_repeats` made of a firing report (see its migration). */
type RepeatOutcome = 'redelivered' | 'resent' | 'counted' | 'ended-firing' | 'new';

/** A firing report looked at as a repeat of the live alert: see takeRepeats. */
interface RepeatResult {
  settled?: ReportOutcome;
  endedAlertId?: string;
}

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
    };
  }

  /**
   * One report. A firing of an alert already live (the common case in a storm: one alert reported
   * again and again) is one statement, shared with the other reports of that alert that arrived
   * meanwhile; anything else is one transaction under the alert's journal lock, which first asks
   * the same question again under that lock.
   */
  async function takeReport(context: ReportContext): Promise<ReportOutcome> {
    if (context.report.status !== 'resolved') {
      const repeat = await takeRepeatWithOthers(context.workflowId, context);
      if (repeat.settled) return repeat.settled;
    }
    return inSqlTransaction(db, async (sql) => {
      if (context.report.status === 'resolved') {
        await lockWorkflowJournal(sql, context.workflowId);
        return (
          (await claimDelivery(sql, context)) ?? (await withDelivery(sql, context, await resolution(sql, context)))
        );
      }
      // Takes the journal lock for the rest of this transaction.
      const [repeat] = await takeRepeats(sql, [context]);
      if (repeat?.settled) return repeat.settled;
      await claimDelivery(sql, context);
      const outcome = repeat?.endedAlertId
        ? await absorbedResend(sql, repeat.endedAlertId, context)
        : await openAlert(sql, context);
      return withDelivery(sql, context, outcome);
    });
  }

  const takeRepeatWithOthers = batchPerAlert(
    (contexts: ReportContext[]) => takeRepeats(sqlPoolOf(db), contexts),
    REPEATS_PER_STATEMENT
  );

  /** Remembers which alert a claimed delivery was counted on, for its redeliveries' answer. */
  async function withDelivery(sql: PoolClient, context: ReportContext, outcome: ReportOutcome) {
    if (context.deliveryKey && outcome.alertId) {
      await sql.query('UPDATE deliveries SET alert_id = $2 WHERE id = $1', [context.deliveryKey, outcome.alertId]);
    }
    return outcome;
  }

  /**
   * Firing reports of one alert, in order, as repeats of the live alert, in one statement
   * (`intake_take_repeats`, see its migration): a redelivery, a re-send of a firing already seen,
   * or a new firing counted. One result per report: `settled` when it was taken; `endedAlertId`
   * when it repeats a firing whose alert has ended; neither when it opens a new alert, or was not
   * looked at because one before it did either. Nothing is written for those.
   */
  async function takeRepeats(sql: Pick<PoolClient, 'query'>, contexts: ReportContext[]): Promise<RepeatResult[]> {
    const { endpoint, report, workflowId } = contexts[0] as ReportContext;
    const { rows } = await sql.query<{ outcome: RepeatOutcome; alert_id: string | null }>(
      'SELECT outcome, alert_id FROM intake_take_repeats($1, $2, $3, $4, $5, $6)',
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
            // The database puts the live alert's id in the entry.
            entry: occurrenceEntry(context, ''),
          }))
        ),
        JOURNAL_CHANNEL,
      ]
    );
    return contexts.map((context, index): RepeatResult => {
      const row = rows[index];
      const alertId = row?.alert_id ?? null;
      switch (row?.outcome) {
        case undefined:
        case 'new':
          return {};
        case 'ended-firing':
          return { endedAlertId: alertId as string };
        case 'counted':
          log.info({ alertId, workflowId, team: context.endpoint.team.name }, 'alert repeated');
          return { settled: { alertId, workflowId, duplicate: true, counted: true } };
        case 'resent':
        case 'redelivered':
          return { settled: { alertId, workflowId, duplicate: true, counted: false } };
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

  /** No live alert of this fingerprint: a new one opens, and its workflow will start. */
  async function openAlert(sql: PoolClient, context: ReportContext): Promise<ReportOutcome> {
    const { endpoint, report, workflowId, receivedAt } = context;
    const alertId = randomUUID();
    const { content, fingerprint } = report;
    await sql.query(
      `INSERT INTO alerts (id, team_id, workflow_id, fingerprint, open_fingerprint, source, title, text, severity,
         link, details, state, assignee, occurrences, first_seen_at, last_seen_at, updated_at)
       VALUES ($1, $2, $3, $4, $4, $5, $6, $7, $8, $9, $10, 'open', $11, 1, $12, $12, $12)`,
      [
        alertId,
        endpoint.team.id,
        workflowId,
        fingerprint,
        content.source,
        content.title,
        content.text ?? null,
        content.severity,
        content.link ?? null,
        content.fields ? JSON.stringify(content.fields) : null,
        endpoint.team.engineers[0] ?? null,
        receivedAt,
      ]
    );
    await appendTimelineEvent(sql, alertId, {
      type: 'received',
      actor: content.source,
      message: `Received from ${content.source}`,
      at: receivedAt,
    });
    if (report.firingKey !== undefined) {
      await sql.query(
        `INSERT INTO alert_firings (team_id, fingerprint, firing_key, alert_id, first_seen_at)
         VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING`,
        [endpoint.team.id, fingerprint, report.firingKey, alertId, receivedAt]
      );
    }
    await appendToJournal(sql, occurrenceEntry(context, alertId));
    log.info({ alertId, workflowId, team: endpoint.team.name }, 'alert opened');
    return { alertId, workflowId, duplicate: false, counted: true };
  }

  /** A firing that has ended (a person closed it), sent again: written to the timeline the first time, then silent. */
  async function absorbedResend(
    sql: PoolClient,
    alertId: string,
    { endpoint, report, workflowId, receivedAt }: ReportContext
  ): Promise<ReportOutcome> {
    const { rowCount } = await sql.query(
      `UPDATE alert_firings SET absorbed_at = $4
       WHERE team_id = $1 AND fingerprint = $2 AND firing_key = $3 AND absorbed_at IS NULL`,
      [endpoint.team.id, report.fingerprint, report.firingKey, receivedAt]
    );
    if (rowCount !== 0) {
      await appendTimelineEvent(sql, alertId, {
        type: 'absorbed',
        actor: report.content.source,
        message: `${report.content.source} sent this firing again after it ended: not posted, nobody called`,
        at: receivedAt,
      });
    }
    return { alertId, workflowId, duplicate: true, counted: false };
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
      const workflowId = alertWorkflowId(endpoint.team.name, report.fingerprint);
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

async function appendTimelineEvent(
  sql: PoolClient,
  alertId: string,
  event: { type: string; actor: string; message: string; at: Date }
): Promise<void> {
  await sql.query(
    'INSERT INTO alert_events (id, alert_id, key, type, actor, message, at) VALUES ($1, $2, $3, $4, $5, $6, $7)',
    [randomUUID(), alertId, `gateway/${randomUUID()}`, event.type, event.actor, event.message, event.at]
  );
}

/** Reports of one alert in one request go one after another, in the order the sender listed them. */
function reportChain(endpoint: EndpointWithTeam): (report: IncomingAlert) => string {
  return (report) => alertWorkflowId(endpoint.team.name, report.fingerprint);
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
