/** Database activities: the alert's state and its timeline in PostgreSQL. */
import { randomUUID } from 'node:crypto';
import { sqlPoolOf, type Prisma } from '../db/client';
import type { AlertState } from '../domain/alert';
import {
  recordAcknowledgement,
  recordAlertEnded,
  recordEscalation,
  recordPass,
  type Metrics,
} from '../observability/metrics';
import { activityKey, type ActivityDeps } from './deps';

export const ALERT_EVENT_TYPES = [
  'assigned',
  'posted',
  'repeated',
  'escalated',
  'acknowledged',
  'passed',
  'closed',
  'resolved',
  'maintenance',
  'slack_error',
] as const;
export type AlertEventType = (typeof ALERT_EVENT_TYPES)[number];

/** Fields of the alert row that a step changes. */
export interface AlertUpdate {
  state?: AlertState;
  /** Slack user id of the engineer holding it; null once the whole team holds it. */
  assignee?: string | null;
  acknowledgedBy?: string;
  acknowledgedAt?: string;
  endedBy?: string;
  endedAt?: string;
  slackMessage?: { channel: string; ts: string };
}

export interface AlertEventInput {
  alertId: string;
  type: AlertEventType;
  /** One line a person reads in the timeline. */
  message: string;
  actor?: string;
  data?: Prisma.InputJsonObject;
  update?: AlertUpdate;
}

/** Counts a lifecycle step once, when its timeline event is first written. */
function countStep(metrics: Metrics, input: AlertEventInput, alert: { team: string; firstSeenAt: Date }): void {
  const { team, firstSeenAt } = alert;
  switch (input.type) {
    case 'escalated':
      recordEscalation(metrics, { team, step: input.data?.step === 'team' ? 'team' : 'engineer' });
      break;
    case 'acknowledged':
      recordAcknowledgement(metrics, { team, firstSeenAt });
      break;
    case 'passed':
      recordPass(metrics, { team });
      break;
    case 'closed':
    case 'resolved':
      recordAlertEnded(metrics, { team, state: input.type, firstSeenAt });
      break;
    default:
      break;
  }
}

/**
 * The event, and the alert's change with it, in one statement: the change applies only when the
 * event is new, so a retried activity changes nothing. Answers the alert's team and first sighting
 * for the lifecycle metrics, or no row when the event was already written.
 */
const RECORD_ALERT_EVENT = `
  WITH inserted AS (
    INSERT INTO alert_events (id, alert_id, key, type, actor, message, data)
    VALUES ($1, $2, $3, $4, $5, $6, $7)
    ON CONFLICT (key) DO NOTHING
    RETURNING alert_id
  ), changed AS (
    UPDATE alerts SET
      state = COALESCE($8::"AlertState", state),
      open_fingerprint = CASE WHEN $8::"AlertState" IN ('closed', 'resolved') THEN NULL ELSE open_fingerprint END,
      assignee = CASE WHEN $9::boolean THEN $10 ELSE assignee END,
      acknowledged_by = COALESCE($11, acknowledged_by),
      acknowledged_at = COALESCE($12::timestamptz, acknowledged_at),
      ended_by = COALESCE($13, ended_by),
      ended_at = COALESCE($14::timestamptz, ended_at),
      slack_channel_id = COALESCE($15, slack_channel_id),
      slack_message_ts = COALESCE($16, slack_message_ts),
      updated_at = now()
    WHERE id = $2 AND $17::boolean AND EXISTS (SELECT 1 FROM inserted)
  )
  SELECT t.name AS team, a.first_seen_at AS "firstSeenAt"
  FROM alerts a JOIN teams t ON t.id = a.team_id
  WHERE a.id = $2 AND EXISTS (SELECT 1 FROM inserted)`;

export function createTimelineActivities({ db, metrics }: Pick<ActivityDeps, 'db' | 'metrics'>) {
  const sql = sqlPoolOf(db);
  return {
    /**
     * Appends one timeline event and applies its change to the alert, atomically. Idempotent:
     * the event's key is this activity's identity, so a retry after a lost reply changes nothing.
     */
    async recordAlertEvent(input: AlertEventInput): Promise<void> {
      const key = activityKey();
      const update = input.update;
      const { rows } = await sql.query<{ team: string; firstSeenAt: Date }>(RECORD_ALERT_EVENT, [
        randomUUID(),
        input.alertId,
        key,
        input.type,
        input.actor ?? null,
        input.message,
        input.data === undefined ? null : JSON.stringify(input.data),
        update?.state ?? null,
        update !== undefined && update.assignee !== undefined,
        update?.assignee ?? null,
        update?.acknowledgedBy ?? null,
        update?.acknowledgedAt ?? null,
        update?.endedBy ?? null,
        update?.endedAt ?? null,
        update?.slackMessage?.channel ?? null,
        update?.slackMessage?.ts ?? null,
        update !== undefined,
      ]);
      const alert = rows[0];
      if (alert && metrics) countStep(metrics, input, alert);
    },
  };
}
