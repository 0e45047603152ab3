/** Database activities: the alert's state and its timeline in PostgreSQL. */
import { Context } from '@temporalio/activity';
import type { Prisma } from '../db/client';
import type { AlertState } from '../domain/alert';
import {
  recordAcknowledgement,
  recordAlertEnded,
  recordEscalation,
  recordPass,
  type Metrics,
} from '../observability/metrics';
import type { ActivityDeps } from './index';

export const ALERT_EVENT_TYPES = [
  'posted',
  'repeated',
  'escalated',
  'acknowledged',
  'passed',
  'closed',
  'resolved',
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

const ENDED_STATES: readonly AlertState[] = ['closed', 'resolved'];

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

export function createTimelineActivities({ db, metrics }: Pick<ActivityDeps, 'db' | 'metrics'>) {
  return {
    /**
     * Appends one timeline event and applies its change to the alert, atomically. Idempotent:
     * the event's key is this activity's identity, so a retry after a lost reply changes nothing.
     */
    async recordAlertEvent(input: AlertEventInput): Promise<void> {
      const { workflowExecution, activityId } = Context.current().info;
      const key = `${workflowExecution?.workflowId}/${workflowExecution?.runId}/${activityId}`;
      await db.$transaction(async (tx) => {
        const { count } = await tx.alertEvent.createMany({
          data: [
            {
              alertId: input.alertId,
              key,
              type: input.type,
              actor: input.actor,
              message: input.message,
              data: input.data,
            },
          ],
          skipDuplicates: true,
        });
        if (count === 0) return;
        if (metrics) {
          const alert = await tx.alert.findUniqueOrThrow({
            where: { id: input.alertId },
            select: { firstSeenAt: true, team: { select: { name: true } } },
          });
          countStep(metrics, input, { team: alert.team.name, firstSeenAt: alert.firstSeenAt });
        }
        if (!input.update) return;
        const update = input.update;
        await tx.alert.update({
          where: { id: input.alertId },
          data: {
            state: update.state,
            ...(update.state && ENDED_STATES.includes(update.state) ? { openFingerprint: null } : {}),
            assignee: update.assignee,
            acknowledgedBy: update.acknowledgedBy,
            acknowledgedAt: update.acknowledgedAt,
            endedBy: update.endedBy,
            endedAt: update.endedAt,
            slackChannelId: update.slackMessage?.channel,
            slackMessageTs: update.slackMessage?.ts,
          },
        });
      });
    },
  };
}
