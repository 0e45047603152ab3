/**
 * Alert intake: where a normalised report from any source (generic webhook, SNS, Alertmanager)
 * becomes durable. Each report is one short local transaction: it decides what the report means
 * (a new alert, a new firing of a live one, a re-send of a firing already seen, a firing a person
 * closed, a resolution), writes that to the alert's row and timeline, and appends the signal its
 * workflow must get to the intake journal. The answer goes out on commit; the dispatcher
 * (src/intake/dispatcher.ts) takes the entry to Temporal behind it. No network call is made while
 * a transaction is open, and none of Slack's time is ever a sender's.
 */
import { randomUUID } from 'node:crypto';
import type { PoolClient } from 'pg';
import type { Config } from '../../config';
import { inSqlTransaction, type Database } from '../../db/client';
import type { TeamSnapshot } from '../../domain/alert';
import { alertWorkflowId } from '../../domain/fingerprint';
import type { IntakeGate } from '../../intake/gate';
import { appendToJournal, lockWorkflowJournal } from '../../intake/journal';
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

/** What one report came to, before the answer is shaped. */
type ReportOutcome = IntakeResult & {
  /** Counted in metrics: false for redeliveries, re-sends and ignored reports. */
  counted: boolean;
};

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

  /** One report, one transaction: the steps run in this order, under the alert's journal lock. */
  async function takeReport(context: ReportContext): Promise<ReportOutcome> {
    return inSqlTransaction(db, async (sql) => {
      await lockWorkflowJournal(sql, context.workflowId);
      const redelivered = await claimDelivery(sql, context);
      if (redelivered) return redelivered;
      const outcome =
        context.report.status === 'resolved' ? await resolution(sql, context) : await firing(sql, context);
      if (context.deliveryKey && outcome.alertId) {
        await sql.query('UPDATE deliveries SET alert_id = $2 WHERE id = $1', [context.deliveryKey, outcome.alertId]);
      }
      return outcome;
    });
  }

  /**
   * A firing: a new alert, a new firing of the live one (counted), or a firing seen before: a
   * re-send refreshes "last seen" only, and after a person's Close it stays quiet.
   */
  async function firing(sql: PoolClient, context: ReportContext): Promise<ReportOutcome> {
    const { endpoint, report, workflowId, receivedAt } = context;
    const teamId = endpoint.team.id;
    if (report.firingKey !== undefined) {
      const known = await findFiring(sql, teamId, report.fingerprint, report.firingKey);
      if (known?.live) {
        await sql.query('UPDATE alerts SET last_seen_at = $2 WHERE id = $1', [known.alertId, receivedAt]);
        return { alertId: known.alertId, workflowId, duplicate: true, counted: false };
      }
      if (known) {
        await recordAbsorbedResend(sql, known.alertId, context);
        return { alertId: known.alertId, workflowId, duplicate: true, counted: false };
      }
    }

    const repeated = await countFiringOnLiveAlert(sql, context);
    const alertId = repeated?.alertId ?? (await openAlert(sql, context));
    if (report.firingKey !== undefined) {
      await sql.query(
        `INSERT INTO alert_firings (team_id, fingerprint, firing_key, alert_id, first_seen_at)
         VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING`,
        [teamId, report.fingerprint, report.firingKey, alertId, receivedAt]
      );
    }
    await appendToJournal(sql, {
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
    });
    log.info(
      { alertId, workflowId, team: endpoint.team.name, opened: !repeated },
      repeated ? 'alert repeated' : 'alert opened'
    );
    return { alertId, workflowId, duplicate: repeated !== undefined, counted: true };
  }

  /**
   * Counts a new firing on the team's live alert of this fingerprint, if there is one. The update
   * matches only while the alert is still live: one that ended a moment ago is left alone, and a
   * new alert opens instead.
   */
  async function countFiringOnLiveAlert(
    sql: PoolClient,
    { endpoint, report, receivedAt }: ReportContext
  ): Promise<{ alertId: string } | undefined> {
    const source = report.content.source;
    // One round trip: the count and its timeline line.
    const { rows } = await sql.query<{ alert_id: string }>(
      `WITH counted AS (
         UPDATE alerts SET occurrences = occurrences + 1, last_seen_at = $3, updated_at = $3
         WHERE team_id = $1 AND open_fingerprint = $2 RETURNING id, occurrences)
       INSERT INTO alert_events (id, alert_id, key, type, actor, message, at)
       SELECT gen_random_uuid(), id, 'gateway/' || gen_random_uuid(), 'repeated', $4::text,
              'Reported again by ' || $4::text || ' (×' || occurrences || ')', $3
       FROM counted RETURNING alert_id`,
      [endpoint.team.id, report.fingerprint, receivedAt, source]
    );
    const live = rows[0];
    return live ? { alertId: live.alert_id } : undefined;
  }

  async function openAlert(sql: PoolClient, { endpoint, report, workflowId, receivedAt }: ReportContext) {
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
    return alertId;
  }

  /** A firing that has ended (a person closed it), sent again: written to the timeline the first time, then silent. */
  async function recordAbsorbedResend(
    sql: PoolClient,
    alertId: string,
    { endpoint, report, receivedAt }: ReportContext
  ) {
    const { rowCount } = await sql.query(
      `UPDATE alert_firings SET absorbed_at = $4
       WHERE team_id = $1 AND fingerprint = $2 AND firing_key = $3 AND absorbed_at IS NULL`,
      [endpoint.team.id, report.fingerprint, report.firingKey, receivedAt]
    );
    if (rowCount === 0) return;
    await appendTimelineEvent(sql, alertId, {
      type: 'absorbed',
      actor: report.content.source,
      message: `${report.content.source} sent this firing again after it ended: not posted, nobody called`,
      at: receivedAt,
    });
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

/** The firing's alert, and whether that alert is still live (open or acknowledged). */
async function findFiring(sql: PoolClient, teamId: string, fingerprint: string, firingKey: string) {
  const { rows } = await sql.query<{ alert_id: string; live: boolean }>(
    `SELECT f.alert_id, a.open_fingerprint IS NOT NULL AS live
     FROM alert_firings f JOIN alerts a ON a.id = f.alert_id
     WHERE f.team_id = $1 AND f.fingerprint = $2 AND f.firing_key = $3`,
    [teamId, fingerprint, firingKey]
  );
  const row = rows[0];
  return row ? { alertId: row.alert_id, live: row.live } : undefined;
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
