/**
 * One alert's life: post it, wait for a person, escalate while nobody owns it.
 *
 * Deterministic: decisions and timers only. Slack and PostgreSQL are reached through activities.
 * Signals only append to an inbox; the main loop works through it, so every step happens in one
 * place and in arrival order.
 *
 * Nobody is paged after a press or a resolution was answered: a step that calls someone looks at
 * its inbox before each Slack call, and the paging activities themselves ask the intake journal
 * whether a press or resolution was taken since the last report this run acted on (a signal may
 * still be on its way while the activity runs).
 */
import {
  ActivityFailure,
  ApplicationFailure,
  condition,
  patched,
  continueAsNew,
  log,
  proxyActivities,
  proxyLocalActivities,
  setCurrentDetails,
  setHandler,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import { patchedSince } from './patches';
import type { AlertActivities } from '../activities';
import type { AlertEventInput } from '../activities/timeline-activities';
import type { AlertContent, AlertHolder, AlertState, AlertView } from '../domain/alert';
import type { PageGuard } from '../activities/slack-activities';
import type { SlackMessageRef } from '../slack/client';
import { SLACK_PACED_RATE_LIMITED } from '../domain/failures';
import {
  DATABASE_ACTIVITY_OPTIONS,
  LOCAL_DATABASE_ACTIVITY_OPTIONS,
  LOCAL_SLACK_ACTIVITY_OPTIONS,
  SLACK_ACTIVITY_OPTIONS,
} from './activity-options';
import { channelTurns } from './channel-turns';
import {
  actionSignal,
  alertSearchAttributes,
  maintenanceChangedSignal,
  occurrenceSignal,
  resolutionSignal,
  statusQuery,
  type AlertActionTaken,
  type AlertOccurrence,
  type AlertResolution,
  type AlertStatus,
  type AlertWorkflowInput,
} from './definitions';

/**
 * Posts into the team channel (the alert message, calls in its thread) wait for their slot of the
 * channel's pace (docs/storm.md). They were activity tasks, since a local activity holds one of
 * the worker's workflow task slots while it waits; but a slot is at most half a second ahead when
 * granted, and as an activity task each post cost the server a task and the workflow a task more,
 * and in a storm an escalation's call waited behind the storm's tasks twice before it reached
 * Slack. Runs that posted through activity tasks replay with them.
 */
const channelPosts = proxyActivities<AlertActivities>(SLACK_ACTIVITY_OPTIONS);
const PACED_POSTS_LOCAL_PATCH = 'paced-posts-local';
const activities = {
  slack: channelPosts,
  database: proxyActivities<AlertActivities>(DATABASE_ACTIVITY_OPTIONS),
};
const localActivities = {
  slack: proxyLocalActivities<AlertActivities>(LOCAL_SLACK_ACTIVITY_OPTIONS),
  database: proxyLocalActivities<AlertActivities>(LOCAL_DATABASE_ACTIVITY_OPTIONS),
};

/** Well under Temporal's 10,240-event warning, so an alert that repeats for days stays cheap to replay. */
export const DEFAULT_MAX_HISTORY_EVENTS = 2_000;
/** Presses remembered to drop redeliveries; older ones cannot be redelivered by then. */
const REMEMBERED_PRESSES = 100;
/**
 * A paging activity stood back because a press or resolution was taken: its signal is waited for
 * this long. It comes within moments; past this, the step goes on rather than page nobody.
 */
const STOP_ARRIVAL_TIMEOUT = '1 minute';

/** Alerts started before channel pacing existed replay without it (their histories have no turns). */
const CHANNEL_PACING_PATCH = 'channel-pacing';
/** Alerts whose histories have regular activity tasks for Slack and the timeline replay with them. */
const LOCAL_ACTIVITIES_PATCH = 'local-activities';

/** Message rewrites, direct messages and timeline writes (activity-options.ts says why they are local). */
function steps(): typeof activities {
  return patchedSince(LOCAL_ACTIVITIES_PATCH) ? localActivities : activities;
}

/** Posts into the team channel: local activities (see channelPosts). */
function pacedPosts(): typeof channelPosts {
  return patchedSince(PACED_POSTS_LOCAL_PATCH) ? localActivities.slack : channelPosts;
}

/**
 * An escalation step starts this long before it is due: its call's turn is booked for the due time
 * meanwhile, and the call waits in its activity until then. On a worker busy with a storm, the
 * timer's workflow task, the turn and the call's own task each waited their turn first, and the
 * call reached Slack seconds after its time. A press in that last moment is seen by the call's
 * activity (its page guard), which then stands back. Runs before it woke at the due time.
 */
const CALL_BOOKED_AHEAD_PATCH = 'call-booked-ahead';
const CALL_BOOKED_AHEAD_MS = 1_500;

/**
 * Search attributes are written when they change, not at every step: each write is a visibility
 * update on the server. Runs before it wrote them at every step (and at start, though the gateway
 * had set them already).
 */
const SEARCH_ATTRIBUTES_ON_CHANGE_PATCH = 'search-attributes-on-change';

/**
 * A team with an on-call schedule: a new alert goes first to whoever is on call, and the first
 * escalation step to the next person on call (issue 21). A plain patch: runs that recorded
 * `patches-2026-12` before it existed did not have it.
 */
const ON_CALL_PATCH = 'on-call-assignment';

/**
 * Maintenance windows (docs/maintenance.md): before paging, the alert asks whether a window of its
 * team is in force for it; while one is, it is shown but nobody is paged, and when the last ends it
 * is paged at once. Runs before it never asked.
 */
const MAINTENANCE_PATCH = 'maintenance-windows';

/** Escalation steps made before it rewrote the message before paging (replayed so). */
const PAGES_FIRST_PATCH = 'pages-first';
/** Repeats handled before it rewrote the message at once, every time (replayed so). */
const COALESCED_REWRITES_PATCH = 'coalesced-rewrites';

/**
 * Repeats rewrite the alert message at most this often, always to the latest count. chat.update is
 * Tier 3 (about 50 a minute for the whole workspace): an alert that repeats every second, or a
 * storm of repeats, would otherwise spend it on counters, and then on 429s, while the rewrites
 * that matter (who holds it now, closed) wait.
 */
export const REPEAT_REWRITE_INTERVAL_MS = 5_000;

type InboxItem =
  | ({ kind: 'occurrence'; count: number } & Omit<AlertOccurrence, 'earlierReportIds'>)
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
  /** Workflow time (ms) of the last rewrite of the alert message, and of the coalesced one pending. */
  let lastRewriteAt = input.carried?.rewrites?.lastAt;
  let rewriteDueAt = input.carried?.rewrites?.dueAt;

  /** Drops a journal entry this run has already received (the dispatcher may send one twice). */
  function isNewReport(reportId: number | undefined): boolean {
    if (reportId === undefined) return true;
    if (reportId <= (status.lastReportId ?? 0)) return false;
    status.lastReportId = reportId;
    return true;
  }

  setHandler(occurrenceSignal, ({ earlierReportIds = [], ...occurrence }) => {
    const seenBefore = status.lastReportId ?? 0;
    if (!isNewReport(occurrence.reportId)) return;
    const count = 1 + earlierReportIds.filter((reportId) => reportId > seenBefore).length;
    inbox.push({ kind: 'occurrence', count, ...occurrence });
  });
  setHandler(resolutionSignal, (resolution) => {
    if (isNewReport(resolution.reportId)) inbox.push({ kind: 'resolution', ...resolution });
  });
  setHandler(actionSignal, (action) => {
    if (!isNewReport(action.reportId) || pressIds.includes(action.pressId)) return;
    pressIds.push(action.pressId);
    if (pressIds.length > REMEMBERED_PRESSES) pressIds.shift();
    inbox.push({ kind: 'action', ...action });
  });
  /** The team's windows changed (the API tells each running alert): ask again before the next step. */
  let maintenanceChanged = false;
  setHandler(maintenanceChangedSignal, () => {
    maintenanceChanged = true;
  });
  setHandler(statusQuery, () => status);
  /** Every chat.postMessage into the team channel waits for its turn from the channel's pacer. */
  const turns = channelTurns({
    channelId: team.slackChannelId,
    alertId: input.alertId,
    installationId: team.installationId,
  });

  function firstHolder(): AlertHolder {
    const first = team.engineers[0];
    return first ? { kind: 'engineer', userId: first } : { kind: 'team' };
  }

  function view(calling?: AlertHolder): AlertView {
    return {
      alertId: status.alertId,
      workflowId: workflowInfo().workflowId,
      team: { name: team.name, slackChannelId: team.slackChannelId, installationId: team.installationId },
      content,
      state: status.state,
      holder: status.holder,
      occurrences: status.occurrences,
      firstSeenAt: status.firstSeenAt,
      lastSeenAt: status.lastSeenAt,
      acknowledgedBy: status.acknowledgedByName ?? status.acknowledgedBy,
      endedBy: status.endedBy,
      assignedBecause:
        status.holder.kind === 'engineer' && status.holder.userId === status.onCall?.userId
          ? status.onCall.reason
          : undefined,
      calling,
    };
  }

  /** A press or a resolution is waiting in the inbox: whatever step is under way must not page anyone. */
  function stopWaiting(): boolean {
    return inbox.some((item) => item.kind !== 'occurrence');
  }

  /** The alert ends (a close or a resolution is in the inbox, or it has ended): it needs no post any more. */
  function ending(): { state: 'closed' | 'resolved' } | undefined {
    if (status.state === 'closed' || status.state === 'resolved') return { state: status.state };
    for (const item of inbox) {
      if (item.kind === 'resolution') return { state: 'resolved' };
      if (item.kind === 'action' && item.action === 'close') return { state: 'closed' };
    }
    return undefined;
  }

  /** The alert ended before its post in a storm: the storm digest lists it, and it is never posted. */
  let listedInDigest = false;

  /**
   * Waits for this alert's turn to post into the team channel (Slack's pace, docs/storm.md). False
   * when the alert ended while it waited in the channel's queue, or had ended before it asked while
   * a storm is on: the storm digest lists it instead, and it is never posted, as firing or
   * otherwise. Outside a storm an alert that ended before its first post is posted in its final state.
   */
  async function awaitPostTurn(retryAfterMs?: number): Promise<boolean> {
    if (listedInDigest) return false;
    if (!patchedSince(CHANNEL_PACING_PATCH)) return true;
    const endedBeforeAsking = ending();
    const came = await turns.take({
      kind: 'post',
      severity: content.severity,
      title: content.title,
      retryAfterMs,
      ended: endedBeforeAsking?.state,
      unwanted: () => (endedBeforeAsking ? undefined : ending()),
      onQueued: (ahead) => showInWebUi(`waiting to be posted: ${ahead} ahead`),
    });
    if (!came) listedInDigest = true;
    return came;
  }

  /**
   * The escalation step under way was due at this time (epoch ms): its call is booked for then,
   * ahead of its timer, and goes out at it (see CALL_BOOKED_AHEAD_MS). Unset outside such a step.
   */
  let callDueAt: number | undefined;

  /** Waits for a turn to call someone in the thread; false when a press or resolution made it moot. */
  async function awaitCallTurn(retryAfterMs?: number): Promise<boolean> {
    if (stopWaiting()) return false;
    if (!patchedSince(CHANNEL_PACING_PATCH)) return true;
    return turns.take({
      kind: 'call',
      severity: content.severity,
      title: content.title,
      retryAfterMs,
      notBefore: callDueAt,
      unwanted: () => (stopWaiting() ? {} : undefined),
    });
  }

  /** What a paging activity checks the journal against: the last entry this run has received. */
  function pageGuard(): PageGuard {
    return { workflowId: workflowInfo().workflowId, seenReportId: status.lastReportId ?? 0 };
  }

  /** The paging activity found a press or resolution taken: wait for its signal, which is on its way. */
  async function awaitStop(): Promise<void> {
    await condition(stopWaiting, STOP_ARRIVAL_TIMEOUT);
  }

  function describeHolder(holder: AlertHolder): string {
    return holder.kind === 'team' ? `the whole team (${team.name})` : holder.userId;
  }

  /** Shows the step in the Web UI: search attributes for filtering, current details for reading. */
  function showInWebUi(details: string): void {
    const shown = workflowInfo().typedSearchAttributes.get(alertSearchAttributes.state);
    if (shown !== status.state || !patchedSince(SEARCH_ATTRIBUTES_ON_CHANGE_PATCH))
      upsertSearchAttributes([{ key: alertSearchAttributes.state, value: status.state }]);
    setCurrentDetails(`**${status.state}** · ${details} at ${new Date().toISOString().slice(11, 16)} UTC`);
  }

  async function record(event: Omit<AlertEventInput, 'alertId'>): Promise<void> {
    await steps().database.recordAlertEvent({ alertId: status.alertId, ...event });
  }

  /** Runs one Slack call; a failure that outlived its retries lands in the timeline, and the alert goes on. */
  async function trySlack<T>(what: string, call: () => Promise<T>): Promise<T | undefined> {
    try {
      return await call();
    } catch (error) {
      await recordSlackFailure(what, error);
      return undefined;
    }
  }

  async function recordSlackFailure(what: string, error: unknown): Promise<void> {
    const reason = failureMessage(error);
    log.warn('Slack call failed', { what, reason });
    await record({ type: 'slack_error', message: `Slack: could not ${what}: ${reason}`, data: { what, reason } });
  }

  /**
   * Makes a paced call (a post or thread call into the channel) at the slot of the turn that came.
   * Refused with 429 all the same (another process, Slack's own jitter), it is not retried on its
   * own, which would meet the next slots and be refused again: it takes a new turn, which the pacer
   * gives after Slack's Retry-After. `no-turn`: the new turn was not wanted any more.
   */
  async function atTurn<T>(
    what: string,
    call: (notBefore: number | undefined) => Promise<T>,
    nextTurn: (retryAfterMs: number) => Promise<boolean>
  ): Promise<T | undefined | 'no-turn'> {
    for (;;) {
      try {
        // A call booked ahead of its step's time never goes before it, whenever its turn came.
        const notBefore = turns.notBefore;
        return await call(callDueAt === undefined ? notBefore : Math.max(notBefore ?? 0, callDueAt));
      } catch (error) {
        const retryAfterMs = pacedRefusal(error);
        if (retryAfterMs === undefined) {
          await recordSlackFailure(what, error);
          return undefined;
        }
        await turns.done();
        if (!(await nextTurn(retryAfterMs))) return 'no-turn';
      }
    }
  }

  /**
   * Posts the alert message if it is not there yet (the first try may have failed while Slack was
   * down). A post that mentions whoever is called is a page: it stands back for a press or a
   * resolution taken meanwhile, and the message is posted later in its new state.
   */
  async function ensurePosted(calling?: AlertHolder): Promise<SlackMessageRef | 'stopped' | undefined> {
    if (status.slackMessage) return status.slackMessage;
    if (calling && stopWaiting()) return 'stopped';
    if (!(await awaitPostTurn())) return 'stopped';
    // A page whose turn came just as a press or resolution did stands back; the message is posted
    // later in its new state, never as firing.
    if (calling && stopWaiting()) {
      await turns.done();
      return 'stopped';
    }
    const posted = await atTurn(
      'post the alert',
      (notBefore) => pacedPosts().postAlertMessage(view(calling), calling ? pageGuard() : undefined, notBefore),
      (retryAfterMs) => awaitPostTurn(retryAfterMs)
    );
    await turns.done();
    if (posted === 'no-turn') return 'stopped';
    if (posted === 'stopped') {
      await awaitStop();
      return 'stopped';
    }
    if (posted) {
      status.slackMessage = posted;
      await record({ type: 'posted', message: `Posted to the team channel`, update: { slackMessage: posted } });
    }
    return posted;
  }

  /** Shows the current state on the alert message (posting it, mentioning nobody, if it is not there yet). */
  async function refreshMessage(): Promise<void> {
    const message = await ensurePosted();
    if (message && message !== 'stopped') await rewriteNow(message);
  }

  /** Rewrites the alert message with everything known now: a coalesced rewrite pending is part of it. */
  async function rewriteNow(message: SlackMessageRef, calling?: AlertHolder): Promise<void> {
    rewriteDueAt = undefined;
    lastRewriteAt = Date.now();
    await trySlack('update the alert message', () =>
      steps().slack.updateAlertMessage({ message, view: view(calling) })
    );
  }

  /**
   * A repeat: rewritten at once after a quiet spell, otherwise once when the interval since the
   * last rewrite is over (the main loop's timer), showing whatever is latest by then.
   */
  async function rewriteForRepeat(message: SlackMessageRef): Promise<void> {
    if (lastRewriteAt === undefined || Date.now() - lastRewriteAt >= REPEAT_REWRITE_INTERVAL_MS) {
      await rewriteNow(message);
      return;
    }
    rewriteDueAt ??= lastRewriteAt + REPEAT_REWRITE_INTERVAL_MS;
  }

  /**
   * Waits for the coalesced rewrite to fall due and makes it; false (nothing made) when someone acts
   * first, or the escalation falls due first (its step rewrites the message anyway).
   */
  async function rewriteWhenDue(due: number): Promise<boolean> {
    const message = status.slackMessage;
    const escalationAt =
      status.state === 'open' && status.escalationDueAt ? Date.parse(status.escalationDueAt) : Infinity;
    if (!message || escalationAt <= due) return false;
    const waitMs = due - Date.now();
    if (waitMs > 0 && (await condition(() => inbox.length > 0, waitMs))) return false;
    if (inbox.length > 0) return false;
    await rewriteNow(message);
    return true;
  }

  /**
   * Hands the alert to someone and calls them: `<@engineer>` in the thread plus a DM, or
   * `<!channel>`. Every Slack call first makes sure that no press or resolution came in; if one
   * did before anyone was called, the hand-over is undone and the step ends. Returns whether the
   * holder was called.
   */
  async function callHolder(holder: AlertHolder, assigneeIndex: number): Promise<boolean> {
    const before = { holder: status.holder, assigneeIndex: status.assigneeIndex };
    const standBack = () => {
      status.holder = before.holder;
      status.assigneeIndex = before.assigneeIndex;
      return false;
    };
    if (stopWaiting()) return standBack();
    status.holder = holder;
    status.assigneeIndex = assigneeIndex;
    const message = await ensurePosted(holder);
    if (message === 'stopped' || stopWaiting()) return standBack();
    // A post that failed (Slack refused it or is down; written to the timeline) does not stop the
    // step: the alert goes on to its next holder, and the post is tried again then.
    if (!message) return true;
    if (patchedSince(PAGES_FIRST_PATCH)) return pageFirst(holder, message, standBack);
    await trySlack('update the alert message', () => steps().slack.updateAlertMessage({ message, view: view(holder) }));
    if (stopWaiting() || !(await awaitCallTurn())) return standBack();
    const called = await trySlack('call in the thread', () =>
      channelPosts.notifyInThread({ message, view: view(holder), calling: holder, guard: pageGuard() })
    );
    await turns.done();
    if (called === 'stopped') {
      await awaitStop();
      return standBack();
    }
    await messageDirectly(holder, message);
    return true;
  }

  /** An engineer being called also gets a direct message, unless a press or resolution came first. */
  async function messageDirectly(holder: AlertHolder, message: SlackMessageRef): Promise<void> {
    if (holder.kind !== 'engineer' || stopWaiting()) return;
    const messaged = await trySlack('send a direct message', () =>
      steps().slack.sendDirectMessage({ userId: holder.userId, view: view(holder), message, guard: pageGuard() })
    );
    if (messaged === 'stopped') await awaitStop();
  }

  /**
   * The pages of an escalation step before the message rewrite: the thread call (its turn comes
   * before every waiting post) and the direct message, then the alert message rewritten last.
   * chat.update is the workspace's scarcest call (Tier 3): when Slack asks us to slow down, the
   * wait must not hold up a page.
   */
  async function pageFirst(holder: AlertHolder, message: SlackMessageRef, standBack: () => boolean): Promise<boolean> {
    if (stopWaiting() || !(await awaitCallTurn())) return standBack();
    const called = await atTurn(
      'call in the thread',
      (notBefore) =>
        pacedPosts().notifyInThread({ message, view: view(holder), calling: holder, guard: pageGuard(), notBefore }),
      (retryAfterMs) => awaitCallTurn(retryAfterMs)
    );
    await turns.done();
    if (called === 'no-turn') return standBack();
    if (called === 'stopped') {
      await awaitStop();
      return standBack();
    }
    await messageDirectly(holder, message);
    await rewriteNow(message, holder);
    return true;
  }

  /**
   * A team with a schedule: the alert goes first to whoever is on call now; with skipAway, to the
   * first of them (or of its engineers) reachable in Slack. The timeline says why. Nobody on call:
   * it goes to the first engineer, as for a team without a schedule.
   */
  async function assignOnCall(): Promise<void> {
    const answer = await steps().database.whoIsOnCall({ teamId: team.id, at: Date.now() });
    if (!answer) return;
    const from =
      answer.scheduleId === undefined || answer.version === undefined
        ? {}
        : { scheduleId: answer.scheduleId, version: answer.version };
    if (!answer.userId) {
      await record({
        type: 'assigned',
        message: `Assigned to ${describeHolder(status.holder)}: ${answer.reason}`,
        data: from,
      });
      return;
    }
    status.holder = { kind: 'engineer', userId: answer.userId };
    status.assigneeIndex = Math.max(team.engineers.indexOf(answer.userId), 0);
    status.onCall = { userId: answer.userId, reason: answer.reason, next: answer.next, ...from };
    const skipped = (answer.skipped ?? []).map(({ userId, why }) => ({ userId, why }));
    await record({
      type: 'assigned',
      message: `Assigned to ${answer.userId} (${answer.reason})`,
      data: { ...from, next: answer.next, ...(skipped.length > 0 ? { skipped } : {}) },
      update: { assignee: answer.userId },
    });
  }

  /**
   * The alert as a window's `match` reads it: its source, and as labels its fields (Alertmanager's
   * labels; a JSON sender's `labels.service` also as `service`) and its severity.
   */
  function traits(): { source: string; labels: Record<string, string> } {
    const labels: Record<string, string> = {};
    for (const field of content.fields ?? []) labels[field.label] = field.value;
    for (const field of content.fields ?? []) {
      if (field.label.startsWith('labels.')) labels[field.label.slice('labels.'.length)] ??= field.value;
    }
    labels.severity = content.severity;
    return { source: content.source, labels };
  }

  /** Whether a maintenance window keeps the alert from paging now; keeps the answer in its status. */
  async function inMaintenance(): Promise<boolean> {
    const answer = await steps().database.maintenanceFor({ teamId: team.id, at: Date.now(), alert: traits() });
    status.maintenance = answer.active
      ? { until: answer.until === null ? null : new Date(answer.until).toISOString(), reason: answer.reason }
      : undefined;
    return answer.active;
  }

  /** A window began: nothing is paged until it ends (presses and resolves still act). */
  async function maintenanceBegan(): Promise<void> {
    status.escalationDueAt = undefined;
    const until = status.maintenance?.until
      ? ` until ${status.maintenance.until.slice(0, 16).replace('T', ' ')} UTC`
      : '';
    const why = status.maintenance?.reason ? ` (${status.maintenance.reason})` : '';
    await record({
      type: 'maintenance',
      message: `Maintenance${why}${until}: shown, nobody paged`,
      data: { until: status.maintenance?.until ?? null },
    });
    showInWebUi(`maintenance${until}`);
  }

  /** The last window ended: an alert nobody acknowledged is paged at once, as if it had just arrived. */
  async function maintenanceEnded(): Promise<void> {
    await record({ type: 'maintenance', message: 'Maintenance over: paged as if it had just arrived' });
    if (status.state !== 'open') return;
    if (team.scheduleId !== undefined || team.skipAway) await assignOnCall();
    status.escalations = 0;
    if (status.holder.kind === 'engineer') restartTimer();
    await callHolder(status.holder, status.assigneeIndex);
    showInWebUi(`maintenance over: called ${describeHolder(status.holder)}`);
  }

  /** Asks again after a window's end or a change of the team's windows, and acts on the difference. */
  async function reconsiderMaintenance(): Promise<void> {
    maintenanceChanged = false;
    const wasQuiet = status.maintenance !== undefined;
    const quiet = await inMaintenance();
    if (quiet && !wasQuiet) await maintenanceBegan();
    else if (!quiet && wasQuiet) await maintenanceEnded();
  }

  /** The escalation clock starts again now, or, for an escalation step, at the time it was due. */
  function restartTimer(): void {
    status.escalationDueAt = new Date((callDueAt ?? Date.now()) + team.escalationTimeoutMs).toISOString();
  }

  /** Nobody acknowledged in time: the next engineer once, then the whole team. */
  async function escalate(): Promise<void> {
    // The next person on call in the holder's rotation (a schedule chose the holder), else the next engineer.
    const nextOnCall =
      status.onCall?.next && status.onCall.next !== status.onCall.userId ? status.onCall.next : undefined;
    const nextIndex = nextOnCall ? Math.max(team.engineers.indexOf(nextOnCall), 0) : status.assigneeIndex + 1;
    const nextUser = nextOnCall ?? team.engineers[nextIndex];
    if (status.holder.kind === 'engineer' && status.escalations === 0 && nextUser !== undefined) {
      const next: AlertHolder = { kind: 'engineer', userId: nextUser };
      if (!(await callHolder(next, nextIndex))) return;
      status.escalations += 1;
      restartTimer();
      await record({
        type: 'escalated',
        message: `Nobody acknowledged: escalated to ${next.userId}`,
        data: { step: 'engineer', to: next.userId },
        update: { assignee: next.userId },
      });
      showInWebUi(`escalated to ${next.userId}`);
      return;
    }
    if (!(await callHolder({ kind: 'team' }, status.assigneeIndex))) return;
    status.escalations += 1;
    status.escalationDueAt = undefined;
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
    status.acknowledgedBy = action.userId;
    status.acknowledgedByName = action.userName;
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
        acknowledgedBy: action.userId,
        acknowledgedAt: new Date().toISOString(),
      },
    });
    showInWebUi(`acked by ${by}`);
    return true;
  }

  /**
   * Hands the alert to the next engineer in order (wrapping round), with a fresh timer. Returns
   * whether the alert message was rewritten on the way.
   */
  async function pass(action: AlertActionTaken): Promise<boolean> {
    const by = action.userName ?? action.userId;
    const nextIndex = (status.assigneeIndex + 1) % Math.max(team.engineers.length, 1);
    const nextUser = team.engineers[nextIndex];
    const next: AlertHolder =
      nextUser && team.engineers.length > 1 ? { kind: 'engineer', userId: nextUser } : { kind: 'team' };
    status.state = 'open';
    status.acknowledgedBy = undefined;
    status.acknowledgedByName = undefined;
    status.escalations = 0;
    if (next.kind === 'engineer' && !status.maintenance) restartTimer();
    else status.escalationDueAt = undefined;
    // A press that came in meanwhile is handled next, in order; the hand-over itself stands.
    // In maintenance the new holder is not called: they are, when the window ends.
    const called = status.maintenance ? false : await callHolder(next, nextIndex);
    if (!called) {
      status.holder = next;
      status.assigneeIndex = nextIndex;
    }
    await record({
      type: 'passed',
      actor: action.userId,
      message: `${by} passed it to ${describeHolder(next)}`,
      data: { to: next.kind === 'engineer' ? next.userId : 'team' },
      update: { state: 'open', assignee: next.kind === 'engineer' ? next.userId : null },
    });
    showInWebUi(`passed by ${by} to ${describeHolder(next)}`);
    return called;
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

  /**
   * Works through everything that arrived; the message is rewritten once at the end, and when
   * only repeats came, at most once per REPEAT_REWRITE_INTERVAL_MS.
   */
  async function handleInbox(): Promise<void> {
    let changed = false;
    let onlyRepeats = true;
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
        status.occurrences += item.count;
        status.lastSeenAt = later(status.lastSeenAt, item.receivedAt);
        content = item.content;
        changed = true;
        continue;
      }
      if (ended) continue;
      onlyRepeats = false;
      if (item.kind === 'resolution') {
        await end('resolved', item.source ?? 'source');
        changed = true;
      } else if (item.action === 'ack') {
        changed = (await acknowledge(item)) || changed;
      } else if (item.action === 'close') {
        await end('closed', item.userName ?? item.userId, item.userId);
        changed = true;
      } else {
        // A pass that called its new holder rewrote the message with everything before it.
        changed = !(await pass(item));
      }
    }
    if (!changed) return;
    if (onlyRepeats && status.slackMessage && patchedSince(COALESCED_REWRITES_PATCH)) {
      await rewriteForRepeat(status.slackMessage);
      return;
    }
    await refreshMessage();
  }

  // A fresh alert: count the occurrence that started it, post it, and start the clock.
  if (!input.carried) {
    const attributes = [
      { key: alertSearchAttributes.state, value: status.state },
      { key: alertSearchAttributes.team, value: team.name },
      { key: alertSearchAttributes.severity, value: content.severity },
      { key: alertSearchAttributes.source, value: content.source },
    ];
    const setAtStart = attributes.every(({ key, value }) => workflowInfo().typedSearchAttributes.get(key) === value);
    if (!setAtStart || !patchedSince(SEARCH_ATTRIBUTES_ON_CHANGE_PATCH)) upsertSearchAttributes(attributes);
    const first = inbox[0];
    if (first?.kind === 'occurrence' && first.alertId === status.alertId) {
      inbox.shift();
      status.occurrences = first.count;
      status.firstSeenAt = status.lastSeenAt = first.receivedAt;
      content = first.content;
    } else {
      status.occurrences = 1;
    }
    if (!input.notice && (team.scheduleId !== undefined || team.skipAway) && patched(ON_CALL_PATCH))
      await assignOnCall();
    const quiet = !input.notice && patched(MAINTENANCE_PATCH) && (await inMaintenance());
    if (input.notice || quiet) {
      await ensurePosted();
      if (quiet) await maintenanceBegan();
    } else {
      // The clock starts once the alert can be seen and acknowledged: in a storm its post waits
      // for its turn (docs/storm.md), and nobody is paged about a message they cannot see yet.
      const posted = await ensurePosted(status.holder);
      if (status.holder.kind === 'engineer' && posted !== 'stopped') restartTimer();
    }
    const message = status.slackMessage;
    if (
      status.holder.kind === 'team' &&
      !input.notice &&
      !quiet &&
      message &&
      !stopWaiting() &&
      (await awaitCallTurn())
    ) {
      const called = await atTurn(
        'call in the thread',
        (notBefore) =>
          pacedPosts().notifyInThread({
            message,
            view: view(status.holder),
            calling: status.holder,
            guard: pageGuard(),
            notBefore,
          }),
        (retryAfterMs) => awaitCallTurn(retryAfterMs)
      );
      await turns.done();
      if (called === 'stopped') await awaitStop();
    }
    showInWebUi(`assigned to ${describeHolder(status.holder)}`);
  }

  while (!ENDED.includes(status.state)) {
    if (rewriteDueAt !== undefined && (await rewriteWhenDue(rewriteDueAt))) continue;
    const woken = () => inbox.length > 0 || maintenanceChanged;
    if (status.maintenance) {
      // Quiet until the windows end, or change; presses and resolves are taken meanwhile.
      const until = status.maintenance.until === null ? undefined : Date.parse(status.maintenance.until);
      const waitMs = until === undefined ? undefined : until - Date.now();
      if (waitMs === undefined) await condition(woken);
      else if (waitMs > 0) await condition(woken, waitMs);
      if (inbox.length === 0) {
        await reconsiderMaintenance();
        continue;
      }
    } else if (status.state === 'open' && status.escalationDueAt) {
      const dueAt = Date.parse(status.escalationDueAt);
      // Woken a moment early to book the call's turn, so that the call goes out at its time.
      const waitMs = dueAt - Date.now() - (patchedSince(CALL_BOOKED_AHEAD_PATCH) ? CALL_BOOKED_AHEAD_MS : 0);
      const someoneActed = waitMs > 0 ? await condition(woken, waitMs) : woken();
      if (maintenanceChanged && inbox.length === 0) {
        await reconsiderMaintenance();
        continue;
      }
      if (!someoneActed) {
        // A window may have begun since the alert last asked (a recurring one needs no signal).
        if (patched(MAINTENANCE_PATCH) && (await inMaintenance())) {
          await maintenanceBegan();
          continue;
        }
        callDueAt = patchedSince(CALL_BOOKED_AHEAD_PATCH) ? dueAt : undefined;
        try {
          await escalate();
        } finally {
          callDueAt = undefined;
        }
        continue;
      }
    } else {
      await condition(woken);
      if (inbox.length === 0) {
        await reconsiderMaintenance();
        continue;
      }
    }
    await handleInbox();
    const info = workflowInfo();
    const historyIsLong = info.historyLength > maxHistoryEvents || info.continueAsNewSuggested;
    // Only with an empty inbox: signals that arrived during the last step's activities would
    // otherwise be lost with this run. Nothing can arrive between this check and the call.
    if (!ENDED.includes(status.state) && historyIsLong && inbox.length === 0) {
      await continueAsNew<typeof alertWorkflow>({
        ...input,
        carried: { ...status, content, pressIds, rewrites: { lastAt: lastRewriteAt, dueAt: rewriteDueAt } },
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

/** Reports of one alert reach the workflow in the order the gateway took them, not always in the order they arrived. */
function later(a: string, b: string): string {
  return Date.parse(b) > Date.parse(a) ? b : a;
}

/** How long Slack asked a paced call to wait (ms), when that is why it failed (SLACK_PACED_RATE_LIMITED). */
function pacedRefusal(error: unknown): number | undefined {
  // A local activity's failure can reach the workflow unwrapped.
  const failure = error instanceof ActivityFailure ? error.cause : error;
  if (!(failure instanceof ApplicationFailure) || failure.type !== SLACK_PACED_RATE_LIMITED) return undefined;
  const [detail] = (failure.details ?? []) as Array<{ retryAfterSeconds?: number } | undefined>;
  return Math.max(detail?.retryAfterSeconds ?? 1, 1) * 1000;
}

function failureMessage(error: unknown): string {
  let current: unknown = error;
  // ActivityFailure wraps the activity's own ApplicationFailure, which says what Slack answered.
  while (current instanceof Error && 'cause' in current && current.cause instanceof Error) current = current.cause;
  return current instanceof Error ? current.message : String(current);
}
