/**
 * Alert intake: the one place where a normalised alert from any source (generic webhook, SNS,
 * Alertmanager) is counted in PostgreSQL and handed to its workflow in Temporal.
 */
import { randomUUID } from 'node:crypto';
import type { Client } from '@temporalio/client';
import { WorkflowNotFoundError } from '@temporalio/common';
import type { Config } from '../../config';
import type { Database, Prisma } from '../../db/client';
import type { AlertContent, TeamSnapshot } from '../../domain/alert';
import { alertWorkflowId } from '../../domain/fingerprint';
import type { Logger } from '../../logger';
import { recordAlertReceived, type Metrics } from '../../observability/metrics';
import type { IncomingAlert } from '../../sources/types';
import {
  ALERT_WORKFLOW_TYPE,
  alertSearchAttributes,
  occurrenceSignal,
  resolutionSignal,
  type AlertOccurrence,
  type AlertWorkflowInput,
} from '../../workflows/definitions';
import type { EndpointWithTeam } from './endpoints';
import { callTemporal, WEBHOOK_TEMPORAL_TIMEOUT_MS } from './temporal-calls';

/** The gateway's 202 body: which alert the report was counted on, and whether it already existed. */
export interface IntakeResult {
  alertId: string | null;
  workflowId: string | null;
  /** True when the report repeated a live alert, or was a redelivery of a report already taken. */
  duplicate: boolean;
  /** Set when nothing was recorded, with the reason shown to the sender. */
  ignored?: string;
}

export interface AlertIntakeDeps {
  config: Config;
  db: Database;
  temporal: Client;
  log: Logger;
  clock: () => number;
  metrics?: Metrics;
}

/** The Web UI shows the summary in lists: a title of any length would swamp it. */
const SUMMARY_MAX_LENGTH = 200;

/** Longer than the Temporal call it wraps, so that the call's own deadline fires first. */
const INTAKE_TRANSACTION = { maxWait: 5_000, timeout: WEBHOOK_TEMPORAL_TIMEOUT_MS + 5_000 };

type AlertWorkflow = (input: AlertWorkflowInput) => Promise<unknown>;

interface CountedOccurrence {
  alertId: string;
  /** True when this report opened a new alert; false when it repeated a live one. */
  opened: boolean;
}

/**
 * Records a delivery that carries its own id (SNS MessageId); for one seen before, returns the
 * answer it got then. Concurrent copies wait on the unique key, so exactly one goes on.
 */
async function claimDelivery(
  tx: Prisma.TransactionClient,
  endpoint: EndpointWithTeam,
  deliveryKey: string | undefined,
  workflowId: string
): Promise<(IntakeResult & { redelivered: true }) | undefined> {
  if (!deliveryKey) return undefined;
  const { count } = await tx.delivery.createMany({
    data: [{ id: deliveryKey, endpointId: endpoint.id }],
    skipDuplicates: true,
  });
  if (count === 1) return undefined;
  const earlier = await tx.delivery.findUnique({ where: { id: deliveryKey }, select: { alertId: true } });
  return { alertId: earlier?.alertId ?? null, workflowId, duplicate: true, redelivered: true };
}

/** Builds the intake over its dependencies. */
export function createAlertIntake({ config, db, temporal, log, clock, metrics }: AlertIntakeDeps) {
  /** Counts a report that reached its workflow (not a redelivery, not an ignored one). */
  function countReport(endpoint: EndpointWithTeam, incoming: IncomingAlert, duplicate: boolean): void {
    if (!metrics) return;
    recordAlertReceived(metrics, {
      source: incoming.content.source,
      team: endpoint.team.name,
      severity: incoming.content.severity,
      status: incoming.status,
      duplicate,
    });
  }

  function teamSnapshot(team: EndpointWithTeam['team']): TeamSnapshot {
    return {
      id: team.id,
      name: team.name,
      slackChannelId: team.slackChannelId,
      engineers: team.engineers,
      escalationTimeoutMs: team.escalationTimeoutMs ?? config.escalationTimeoutMs,
    };
  }

  /**
   * Opens the alert, or counts a repeat on the live one (at most one per team and fingerprint,
   * by the unique index on open_fingerprint). Retries when the live alert ends between the
   * insert that found it and the update that counts on it.
   */
  async function countOccurrence(
    tx: Prisma.TransactionClient,
    team: EndpointWithTeam['team'],
    incoming: IncomingAlert,
    workflowId: string,
    receivedAt: Date
  ): Promise<CountedOccurrence> {
    const { content, fingerprint } = incoming;
    for (let attempt = 1; ; attempt++) {
      const alertId = randomUUID();
      const { count: inserted } = await tx.alert.createMany({
        data: [
          {
            id: alertId,
            teamId: team.id,
            workflowId,
            fingerprint,
            openFingerprint: fingerprint,
            source: content.source,
            title: content.title,
            text: content.text,
            severity: content.severity,
            link: content.link,
            details: content.fields ? (content.fields as unknown as Prisma.InputJsonValue) : undefined,
            state: 'open',
            assignee: team.engineers[0],
            occurrences: 1,
            firstSeenAt: receivedAt,
            lastSeenAt: receivedAt,
          },
        ],
        skipDuplicates: true,
      });
      if (inserted === 1) {
        await tx.alertEvent.create({
          data: {
            alertId,
            key: `gateway/${randomUUID()}`,
            type: 'received',
            actor: content.source,
            message: `Received from ${content.source}`,
            at: receivedAt,
          },
        });
        return { alertId, opened: true };
      }

      const live = await tx.alert.findFirst({
        where: { teamId: team.id, openFingerprint: fingerprint },
        select: { id: true },
      });
      const repeated = live
        ? await tx.alert.updateMany({
            where: { id: live.id, openFingerprint: fingerprint },
            data: { occurrences: { increment: 1 }, lastSeenAt: receivedAt },
          })
        : { count: 0 };
      if (live && repeated.count === 1) {
        const { occurrences } = await tx.alert.findUniqueOrThrow({
          where: { id: live.id },
          select: { occurrences: true },
        });
        await tx.alertEvent.create({
          data: {
            alertId: live.id,
            key: `gateway/${randomUUID()}`,
            type: 'repeated',
            actor: content.source,
            message: `Reported again by ${content.source} (×${occurrences})`,
            at: receivedAt,
          },
        });
        return { alertId: live.id, opened: false };
      }
      // The live alert ended in between: the next round opens a new one.
      if (attempt >= 3) throw new Error(`alert ${workflowId} kept changing while its report was counted`);
    }
  }

  async function openOrRepeat(
    endpoint: EndpointWithTeam,
    incoming: IncomingAlert,
    deliveryId: string | undefined
  ): Promise<IntakeResult> {
    const { team } = endpoint;
    const workflowId = alertWorkflowId(team.name, incoming.fingerprint);
    const receivedAt = new Date(clock());
    // One SNS message reaches every endpoint subscribed to its topic with the same MessageId.
    const deliveryKey = deliveryId === undefined ? undefined : `${endpoint.id}/${deliveryId}`;

    // The signal is sent inside the transaction: if Temporal refuses it, nothing was written and
    // the sender's retry starts from a clean slate; if it succeeds, the commit follows at once.
    const result = await db.$transaction(async (tx): Promise<IntakeResult & { redelivered?: true }> => {
      const redelivery = await claimDelivery(tx, endpoint, deliveryKey, workflowId);
      if (redelivery) return redelivery;

      const { alertId, opened } = await countOccurrence(tx, team, incoming, workflowId, receivedAt);
      if (deliveryKey) await tx.delivery.update({ where: { id: deliveryKey }, data: { alertId } });

      const occurrence: AlertOccurrence = { alertId, content: incoming.content, receivedAt: receivedAt.toISOString() };
      await callTemporal(temporal, `signalWithStart ${workflowId}`, WEBHOOK_TEMPORAL_TIMEOUT_MS, () =>
        temporal.workflow.signalWithStart<AlertWorkflow, [AlertOccurrence]>(ALERT_WORKFLOW_TYPE, {
          workflowId,
          taskQueue: config.temporal.taskQueue,
          args: [
            {
              alertId,
              fingerprint: incoming.fingerprint,
              team: teamSnapshot(team),
              content: incoming.content,
              ...(incoming.notice ? { notice: true } : {}),
            },
          ],
          signal: occurrenceSignal,
          signalArgs: [occurrence],
          typedSearchAttributes: initialSearchAttributes(team.name, incoming.content),
          staticSummary: truncate(incoming.content.title, SUMMARY_MAX_LENGTH),
        })
      );
      log.info({ alertId, workflowId, team: team.name, opened }, opened ? 'alert opened' : 'alert repeated');
      return { alertId, workflowId, duplicate: !opened };
    }, INTAKE_TRANSACTION);
    const { redelivered, ...answer } = result;
    if (!redelivered) countReport(endpoint, incoming, answer.duplicate);
    return answer;
  }

  /** Ends the alert in the database when its workflow is gone, so that the next report opens a new one. */
  async function resolveWithoutWorkflow(
    tx: Prisma.TransactionClient,
    alertId: string,
    fingerprint: string,
    source: string,
    at: Date
  ) {
    const { count } = await tx.alert.updateMany({
      where: { id: alertId, openFingerprint: fingerprint },
      data: { state: 'resolved', openFingerprint: null, endedBy: source, endedAt: at },
    });
    if (count === 0) return;
    await tx.alertEvent.create({
      data: {
        alertId,
        key: `gateway/${randomUUID()}`,
        type: 'resolved',
        actor: source,
        message: `Resolved by ${source} (its workflow was no longer running)`,
        at,
      },
    });
  }

  async function resolve(
    endpoint: EndpointWithTeam,
    incoming: IncomingAlert,
    deliveryId: string | undefined
  ): Promise<IntakeResult> {
    const { team } = endpoint;
    const workflowId = alertWorkflowId(team.name, incoming.fingerprint);
    const deliveryKey = deliveryId === undefined ? undefined : `${endpoint.id}/${deliveryId}`;
    const receivedAt = new Date(clock());

    // In one transaction with the delivery record, as for openOrRepeat: a redelivered OK must not
    // resolve a newer alert that opened with the same fingerprint since the first delivery.
    const result = await db.$transaction(async (tx): Promise<IntakeResult & { redelivered?: true }> => {
      const redelivery = await claimDelivery(tx, endpoint, deliveryKey, workflowId);
      if (redelivery) return redelivery;
      const live = await tx.alert.findFirst({
        where: { teamId: team.id, openFingerprint: incoming.fingerprint },
        select: { id: true, workflowId: true },
      });
      if (!live) return { alertId: null, workflowId, duplicate: false, ignored: 'no open alert for this key' };
      if (deliveryKey) await tx.delivery.update({ where: { id: deliveryKey }, data: { alertId: live.id } });

      try {
        await callTemporal(temporal, `signal resolution to ${live.workflowId}`, WEBHOOK_TEMPORAL_TIMEOUT_MS, () =>
          temporal.workflow
            .getHandle(live.workflowId)
            .signal(resolutionSignal, { alertId: live.id, receivedAt: receivedAt.toISOString() })
        );
      } catch (error) {
        if (!(error instanceof WorkflowNotFoundError)) throw error;
        await resolveWithoutWorkflow(tx, live.id, incoming.fingerprint, incoming.content.source, receivedAt);
      }
      log.info({ alertId: live.id, workflowId: live.workflowId, team: team.name }, 'alert resolved by its source');
      return { alertId: live.id, workflowId: live.workflowId, duplicate: false };
    }, INTAKE_TRANSACTION);
    const { redelivered, ...answer } = result;
    if (!redelivered && answer.ignored === undefined) countReport(endpoint, incoming, false);
    return answer;
  }

  /**
   * Takes one report for an endpoint's team. `firing` opens the alert or counts a repeat, and
   * signals its workflow (starting it if needed); `resolved` signals the live alert's workflow.
   * `deliveryId` (SNS MessageId) makes a redelivered report act once, whether it fires or
   * resolves. Throws TemporalUnavailableError when Temporal cannot take it; nothing is then
   * written.
   */
  async function receiveAlert(
    endpoint: EndpointWithTeam,
    incoming: IncomingAlert,
    deliveryId?: string
  ): Promise<IntakeResult> {
    if (incoming.ignoredBecause !== undefined) {
      log.info({ team: endpoint.team.name, reason: incoming.ignoredBecause }, 'alert report ignored');
      return { alertId: null, workflowId: null, duplicate: false, ignored: incoming.ignoredBecause };
    }
    return incoming.status === 'resolved'
      ? resolve(endpoint, incoming, deliveryId)
      : openOrRepeat(endpoint, incoming, deliveryId);
  }

  return {
    receiveAlert,

    /**
     * Takes the reports of one request (an Alertmanager group, one SNS message) in order, and
     * answers one result per report. With several reports, each gets its own delivery id
     * (`<deliveryId>#<index>`), so that a redelivery of the request acts once per report. The
     * first report that Temporal cannot take throws; the sender's retry then repeats the ones
     * before it, which count as repeats of their live alerts.
     */
    async receiveAlerts(
      endpoint: EndpointWithTeam,
      reports: readonly IncomingAlert[],
      deliveryId?: string
    ): Promise<IntakeResult[]> {
      const results: IntakeResult[] = [];
      for (const [index, report] of reports.entries()) {
        const reportDeliveryId =
          deliveryId === undefined || reports.length === 1 ? deliveryId : `${deliveryId}#${index}`;
        results.push(await receiveAlert(endpoint, report, reportDeliveryId));
      }
      return results;
    },
  };
}

export type AlertIntake = ReturnType<typeof createAlertIntake>;

/** The workflow keeps these current; the start sets them so that a new alert is findable at once. */
function initialSearchAttributes(teamName: string, content: AlertContent) {
  return [
    { key: alertSearchAttributes.state, value: 'open' },
    { key: alertSearchAttributes.team, value: teamName },
    { key: alertSearchAttributes.severity, value: content.severity },
    { key: alertSearchAttributes.source, value: content.source },
  ];
}

function truncate(text: string, maxLength: number): string {
  return text.length <= maxLength ? text : `${text.slice(0, maxLength - 1)}…`;
}
