/**
 * One alert's life: post it, wait for a person, escalate while nobody owns it.
 *
 * Deterministic: decisions and timers only. Slack and PostgreSQL are reached through activities.
 * Signals only append to an inbox; the main loop works through it, so every step happens in one
 * place and in arrival order.
 */
import {
  condition,
  continueAsNew,
  log,
  proxyActivities,
  setCurrentDetails,
  setHandler,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { AlertActivities } from '../activities';
import type { AlertEventInput } from '../activities/timeline-activities';
import type { AlertContent, AlertHolder, AlertState, AlertView } from '../domain/alert';
import type { SlackMessageRef } from '../slack/client';
import { DATABASE_ACTIVITY_OPTIONS, SLACK_ACTIVITY_OPTIONS } from './activity-options';
import {
  actionSignal,
  alertSearchAttributes,
  occurrenceSignal,
  resolutionSignal,
  statusQuery,
  type AlertActionTaken,
  type AlertOccurrence,
  type AlertResolution,
  type AlertStatus,
  type AlertWorkflowInput,
} from './definitions';

const slack = proxyActivities<AlertActivities>(SLACK_ACTIVITY_OPTIONS);
const database = proxyActivities<AlertActivities>(DATABASE_ACTIVITY_OPTIONS);

/** Well under Temporal's 10,240-event warning, so an alert that repeats for days stays cheap to replay. */
export const DEFAULT_MAX_HISTORY_EVENTS = 2_000;
/** Presses remembered to drop redeliveries; older ones cannot be redelivered by then. */
const REMEMBERED_PRESSES = 100;

type InboxItem =
  | ({ kind: 'occurrence' } & AlertOccurrence)
  | ({ kind: 'resolution' } & AlertResolution)
  | ({ kind: 'action' } & AlertActionTaken);

const ENDED: readonly AlertState[] = ['closed', 'resolved'];

export async function alertWorkflow(input: AlertWorkflowInput): Promise<AlertStatus> {
  const { team } = input;
  const maxHistoryEvents = input.maxHistoryEvents ?? DEFAULT_MAX_HISTORY_EVENTS;
  const startedAt = new Date().toISOString();

  // Initialised before any handler is set: on signal-with-start, handlers run before this body.
  const status: AlertStatus = input.carried ?? {
    alertId: input.alertId,
    state: 'open',
    holder: firstHolder(),
    assigneeIndex: 0,
    escalations: 0,
    occurrences: 0,
    firstSeenAt: startedAt,
    lastSeenAt: startedAt,
  };
  let content: AlertContent = input.carried?.content ?? input.content;
  const pressIds: string[] = input.carried?.pressIds ?? [];
  const inbox: InboxItem[] = [];
  /** An occurrence of a newer alert with this fingerprint that arrived while this one was ending. */
  let successor: AlertOccurrence | undefined;

  setHandler(occurrenceSignal, (occurrence) => void inbox.push({ kind: 'occurrence', ...occurrence }));
  setHandler(resolutionSignal, (resolution) => void inbox.push({ kind: 'resolution', ...resolution }));
  setHandler(actionSignal, (action) => {
    if (pressIds.includes(action.pressId)) return;
    pressIds.push(action.pressId);
    if (pressIds.length > REMEMBERED_PRESSES) pressIds.shift();
    inbox.push({ kind: 'action', ...action });
  });
  setHandler(statusQuery, () => status);

  function firstHolder(): AlertHolder {
    const first = team.engineers[0];
    return first ? { kind: 'engineer', userId: first } : { kind: 'team' };
  }

  function view(calling?: AlertHolder): AlertView {
    return {
      alertId: status.alertId,
      workflowId: workflowInfo().workflowId,
      team: { name: team.name, slackChannelId: team.slackChannelId },
      content,
      state: status.state,
      holder: status.holder,
      occurrences: status.occurrences,
      firstSeenAt: status.firstSeenAt,
      lastSeenAt: status.lastSeenAt,
      acknowledgedBy: status.acknowledgedBy,
      endedBy: status.endedBy,
      calling,
    };
  }

  function describeHolder(holder: AlertHolder): string {
    return holder.kind === 'team' ? `the whole team (${team.name})` : holder.userId;
  }

  /** Shows the step in the Web UI: search attributes for filtering, current details for reading. */
  function showInWebUi(details: string): void {
    upsertSearchAttributes([{ key: alertSearchAttributes.state, value: status.state }]);
    setCurrentDetails(`**${status.state}** · ${details} at ${new Date().toISOString().slice(11, 16)} UTC`);
  }

  async function record(event: Omit<AlertEventInput, 'alertId'>): Promise<void> {
    await database.recordAlertEvent({ alertId: status.alertId, ...event });
  }

  /** Runs one Slack call; a failure that outlived its retries lands in the timeline, and the alert goes on. */
  async function trySlack<T>(what: string, call: () => Promise<T>): Promise<T | undefined> {
    try {
      return await call();
    } catch (error) {
      const reason = failureMessage(error);
      log.warn('Slack call failed', { what, reason });
      await record({ type: 'slack_error', message: `Slack: could not ${what}: ${reason}`, data: { what, reason } });
      return undefined;
    }
  }

  /** Posts the alert message if it is not there yet (the first try may have failed while Slack was down). */
  async function ensurePosted(calling?: AlertHolder): Promise<SlackMessageRef | undefined> {
    if (status.slackMessage) return status.slackMessage;
    const posted = await trySlack('post the alert', () => slack.postAlertMessage(view(calling)));
    if (posted) {
      status.slackMessage = posted;
      await record({ type: 'posted', message: `Posted to the team channel`, update: { slackMessage: posted } });
    }
    return posted;
  }

  async function refreshMessage(calling?: AlertHolder): Promise<void> {
    const message = await ensurePosted(calling);
    if (message)
      await trySlack('update the alert message', () => slack.updateAlertMessage({ message, view: view(calling) }));
  }

  /** Hands the alert to someone and calls them: `<@engineer>` in the thread plus a DM, or `<!channel>`. */
  async function callHolder(holder: AlertHolder, assigneeIndex: number): Promise<void> {
    status.holder = holder;
    status.assigneeIndex = assigneeIndex;
    const message = await ensurePosted(holder);
    if (!message) return;
    await trySlack('update the alert message', () => slack.updateAlertMessage({ message, view: view(holder) }));
    await trySlack('call in the thread', () => slack.notifyInThread({ message, view: view(holder), calling: holder }));
    if (holder.kind === 'engineer') {
      await trySlack('send a direct message', () =>
        slack.sendDirectMessage({ userId: holder.userId, view: view(holder), message })
      );
    }
  }

  function restartTimer(): void {
    status.escalationDueAt = new Date(Date.now() + team.escalationTimeoutMs).toISOString();
  }

  /** Nobody acknowledged in time: the next engineer once, then the whole team. */
  async function escalate(): Promise<void> {
    const nextIndex = status.assigneeIndex + 1;
    status.escalations += 1;
    if (status.holder.kind === 'engineer' && status.escalations === 1 && nextIndex < team.engineers.length) {
      const next: AlertHolder = { kind: 'engineer', userId: team.engineers[nextIndex] as string };
      restartTimer();
      await callHolder(next, nextIndex);
      await record({
        type: 'escalated',
        message: `Nobody acknowledged: escalated to ${next.userId}`,
        data: { step: 'engineer', to: next.userId },
        update: { assignee: next.userId },
      });
      showInWebUi(`escalated to ${next.userId}`);
      return;
    }
    status.escalationDueAt = undefined;
    await callHolder({ kind: 'team' }, status.assigneeIndex);
    await record({
      type: 'escalated',
      message: 'Nobody acknowledged: called the whole team',
      data: { step: 'team' },
      update: { assignee: null },
    });
    showInWebUi('escalated to the whole team');
  }

  async function acknowledge(action: AlertActionTaken): Promise<boolean> {
    if (status.state !== 'open') return false;
    const by = action.userName ?? action.userId;
    const index = team.engineers.indexOf(action.userId);
    status.state = 'acknowledged';
    status.acknowledgedBy = by;
    status.holder = { kind: 'engineer', userId: action.userId };
    if (index >= 0) status.assigneeIndex = index;
    status.escalationDueAt = undefined;
    await record({
      type: 'acknowledged',
      actor: action.userId,
      message: `Acknowledged by ${by}`,
      update: {
        state: 'acknowledged',
        assignee: action.userId,
        acknowledgedBy: by,
        acknowledgedAt: new Date().toISOString(),
      },
    });
    showInWebUi(`acked by ${by}`);
    return true;
  }

  /** Hands the alert to the next engineer in order (wrapping round), with a fresh timer. */
  async function pass(action: AlertActionTaken): Promise<void> {
    const by = action.userName ?? action.userId;
    const nextIndex = (status.assigneeIndex + 1) % Math.max(team.engineers.length, 1);
    const nextUser = team.engineers[nextIndex];
    const next: AlertHolder =
      nextUser && team.engineers.length > 1 ? { kind: 'engineer', userId: nextUser } : { kind: 'team' };
    status.state = 'open';
    status.acknowledgedBy = undefined;
    status.escalations = 0;
    if (next.kind === 'engineer') restartTimer();
    else status.escalationDueAt = undefined;
    await callHolder(next, nextIndex);
    await record({
      type: 'passed',
      actor: action.userId,
      message: `${by} passed it to ${describeHolder(next)}`,
      data: { to: next.kind === 'engineer' ? next.userId : 'team' },
      update: { state: 'open', assignee: next.kind === 'engineer' ? next.userId : null },
    });
    showInWebUi(`passed by ${by} to ${describeHolder(next)}`);
  }

  async function end(state: 'closed' | 'resolved', by: string, actor?: string): Promise<void> {
    status.state = state;
    status.endedBy = by;
    status.escalationDueAt = undefined;
    await record({
      type: state,
      actor,
      message: state === 'closed' ? `Closed by ${by}` : `Resolved by the source${by === 'source' ? '' : ` (${by})`}`,
      update: { state, endedBy: by, endedAt: new Date().toISOString() },
    });
    showInWebUi(state === 'closed' ? `closed by ${by}` : 'resolved by the source');
  }

  /** Works through everything that arrived; the message is rewritten once at the end. */
  async function handleInbox(): Promise<void> {
    let changed = false;
    while (inbox.length > 0) {
      const item = inbox.shift() as InboxItem;
      const ended = ENDED.includes(status.state);
      if (item.kind === 'occurrence') {
        if (item.alertId !== status.alertId) {
          if (ended) successor = item;
          else log.warn('Occurrence for another alert ignored', { alertId: item.alertId });
          continue;
        }
        if (ended) continue;
        status.occurrences += 1;
        status.lastSeenAt = item.receivedAt;
        content = item.content;
        changed = true;
      } else if (ended) {
        continue;
      } else if (item.kind === 'resolution') {
        await end('resolved', 'source');
        changed = true;
      } else if (item.action === 'ack') {
        changed = (await acknowledge(item)) || changed;
      } else if (item.action === 'close') {
        await end('closed', item.userName ?? item.userId, item.userId);
        changed = true;
      } else {
        await pass(item);
        changed = false; // pass rewrote the message already
      }
    }
    if (changed) await refreshMessage();
  }

  // A fresh alert: count the occurrence that started it, post it, and start the clock.
  if (!input.carried) {
    upsertSearchAttributes([
      { key: alertSearchAttributes.state, value: status.state },
      { key: alertSearchAttributes.team, value: team.name },
      { key: alertSearchAttributes.severity, value: content.severity },
      { key: alertSearchAttributes.source, value: content.source },
    ]);
    const first = inbox[0];
    if (first?.kind === 'occurrence' && first.alertId === status.alertId) {
      inbox.shift();
      status.occurrences = 1;
      status.firstSeenAt = status.lastSeenAt = first.receivedAt;
      content = first.content;
    } else {
      status.occurrences = 1;
    }
    if (input.notice) {
      await ensurePosted();
    } else {
      if (status.holder.kind === 'engineer') restartTimer();
      await ensurePosted(status.holder);
    }
    if (status.holder.kind === 'team' && !input.notice) {
      const message = status.slackMessage;
      if (message)
        await trySlack('call in the thread', () =>
          slack.notifyInThread({ message, view: view(status.holder), calling: status.holder })
        );
    }
    showInWebUi(`assigned to ${describeHolder(status.holder)}`);
  }

  while (!ENDED.includes(status.state)) {
    if (status.state === 'open' && status.escalationDueAt) {
      const waitMs = Date.parse(status.escalationDueAt) - Date.now();
      const someoneActed = waitMs > 0 ? await condition(() => inbox.length > 0, waitMs) : inbox.length > 0;
      if (!someoneActed) {
        await escalate();
        continue;
      }
    } else {
      await condition(() => inbox.length > 0);
    }
    await handleInbox();
    const info = workflowInfo();
    const historyIsLong = info.historyLength > maxHistoryEvents || info.continueAsNewSuggested;
    // Only with an empty inbox: signals that arrived during the last step's activities would
    // otherwise be lost with this run. Nothing can arrive between this check and the call.
    if (!ENDED.includes(status.state) && historyIsLong && inbox.length === 0) {
      await continueAsNew<typeof alertWorkflow>({
        ...input,
        carried: { ...status, content, pressIds },
      });
    }
  }

  // Anything still queued (a late repeat of a newer alert) is looked at before the run ends.
  while (inbox.length > 0) await handleInbox();
  if (successor) {
    await continueAsNew<typeof alertWorkflow>({
      alertId: successor.alertId,
      fingerprint: input.fingerprint,
      team,
      content: successor.content,
      maxHistoryEvents: input.maxHistoryEvents,
    });
  }
  return status;
}

function failureMessage(error: unknown): string {
  let current: unknown = error;
  // ActivityFailure wraps the activity's own ApplicationFailure, which says what Slack answered.
  while (current instanceof Error && 'cause' in current && current.cause instanceof Error) current = current.cause;
  return current instanceof Error ? current.message : String(current);
}
