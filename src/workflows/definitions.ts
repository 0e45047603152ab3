/**
 * The alert workflow's messages: the one place where signal and query names are spelled.
 * The gateway and the workflow both import these definitions.
 */
import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';
import { defineQuery, defineSignal } from '@temporalio/workflow';
import type { AlertAction, AlertContent, AlertHolder, AlertState, TeamSnapshot } from '../domain/alert';
import { CHANNEL_WAKE_SIGNAL } from '../domain/channel-pacing';

export const ALERT_WORKFLOW_TYPE = 'alertWorkflow';

/**
 * Every signal that came through the gateway carries its intake journal id (src/intake/): ids of
 * one workflow only grow, so the workflow drops one it has seen (a re-sent entry acts once), and
 * paging steps tell the journal which entries they have already acted on.
 */
export interface JournalReport {
  reportId?: number;
}

/** A source reported the problem (again). The first one arrives with the workflow's start. */
export interface AlertOccurrence extends JournalReport {
  /** The database alert this occurrence was counted on by the gateway. */
  alertId: string;
  /** The latest report's content and arrival, when several are folded into this signal. */
  content: AlertContent;
  receivedAt: string;
  /**
   * Repeats of the same alert that waited in the journal together are folded into one signal:
   * the journal ids of the earlier ones, oldest first (`reportId` is the last). Each is one more
   * occurrence, counted only if newer than the last report the run has seen, so a fold sent again
   * after a crash, whole or in other pieces, still counts each report once.
   */
  earlierReportIds?: number[];
}

/** The source reported that the problem is over (`resolved`, CloudWatch `OK`). */
export interface AlertResolution extends JournalReport {
  alertId: string;
  receivedAt: string;
  /** Which source resolved it (`prometheus`, `cloudwatch`), as the gateway recorded it. */
  source?: string;
  reason?: string;
}

/** A person pressed a button on the alert message. */
export interface AlertActionTaken extends JournalReport {
  action: AlertAction;
  /** Slack user id of whoever pressed it. */
  userId: string;
  /** Display name for showing without a mention. */
  userName?: string;
  /** Unique per press (Slack's action_ts plus user): a redelivered press acts once. */
  pressId: string;
  /** Why, when it was not a press in Slack (a close because the team was deleted): kept on the timeline. */
  reason?: string;
}

export const occurrenceSignal = defineSignal<[AlertOccurrence]>('occurrence');
export const resolutionSignal = defineSignal<[AlertResolution]>('resolution');
export const actionSignal = defineSignal<[AlertActionTaken]>('action');
/** The team's maintenance windows changed: the alert asks again whether it may page. */
export const maintenanceChangedSignal = defineSignal('maintenanceChanged');

/** What the workflow knows about its alert, as the state query returns it. */
export interface AlertStatus {
  alertId: string;
  state: AlertState;
  holder: AlertHolder;
  /** Index in team.engineers of the engineer who holds it (last one called when the team holds it). */
  assigneeIndex: number;
  /** How many escalation steps ran since the last hand-over (0 = none). */
  escalations: number;
  /**
   * The team's schedule (or, with skipAway, Slack presence) chose the first holder (src/oncall/):
   * who, why, and the next person on call in their rotation, whom the first escalation step calls.
   */
  onCall?: { userId: string; reason: string; next: string | null; scheduleId?: string; version?: number };
  /** A maintenance window of the team is in force for it: shown, nobody paged until `until` (ISO; null: unknown). */
  maintenance?: { until: string | null; reason: string | null };
  occurrences: number;
  firstSeenAt: string;
  lastSeenAt: string;
  /** When the next escalation step fires while nobody owns the alert. */
  escalationDueAt?: string;
  /** Slack user id of whoever acknowledged it. */
  acknowledgedBy?: string;
  /** Their name as Slack gave it with the press, for showing without a mention. */
  acknowledgedByName?: string;
  endedBy?: string;
  /** Slack user id of whoever closed it. */
  endedByUserId?: string;
  /** Slack user id of whoever passed it on to the holder last (cleared by an acknowledgement). */
  passedBy?: string;
  slackMessage?: { channel: string; ts: string };
  /**
   * The direct messages sent to people called about it (the latest few), rewritten when the alert
   * moves on; `shown` says what each shows now, so that one is rewritten only when that changes.
   */
  directMessages?: Array<{ userId: string; message: { channel: string; ts: string }; shown: string }>;
  /** The last journal entry this alert acted on (see JournalReport). */
  lastReportId?: number;
}

export const statusQuery = defineQuery<AlertStatus>('status');

/** Start input, carried across continue-as-new with the state so far. */
export interface AlertWorkflowInput {
  alertId: string;
  fingerprint: string;
  team: TeamSnapshot;
  content: AlertContent;
  /** Present after continue-as-new. */
  carried?: AlertStatus & {
    pressIds: string[];
    content: AlertContent;
    /** Workflow time (ms) of the last message rewrite and of the coalesced one pending. */
    rewrites?: { lastAt?: number; dueAt?: number };
  };
  /** A notice: posted without mentioning anyone, never escalated (see IncomingAlert.notice). */
  notice?: boolean;
  /** Continue-as-new once the history grows past this many events (bounded history). */
  maxHistoryEvents?: number;
}

/** Custom search attributes kept current by the workflow, so operators can filter in the Web UI. */
export const alertSearchAttributes = {
  state: defineSearchAttributeKey('AlertState', SearchAttributeType.KEYWORD),
  team: defineSearchAttributeKey('AlertTeam', SearchAttributeType.KEYWORD),
  severity: defineSearchAttributeKey('AlertSeverity', SearchAttributeType.KEYWORD),
  source: defineSearchAttributeKey('AlertSource', SearchAttributeType.KEYWORD),
  /** Text: the Web UI's and CLI's queries find alerts by words of their title (`AlertTitle = 'disk'`). */
  title: defineSearchAttributeKey('AlertTitle', SearchAttributeType.TEXT),
} as const;

/** What a new alert's workflow starts with, so that it is findable before its first step runs. */
export function initialAlertSearchAttributes(teamName: string, content: AlertContent) {
  return [
    { key: alertSearchAttributes.state, value: 'open' },
    { key: alertSearchAttributes.team, value: teamName },
    { key: alertSearchAttributes.severity, value: content.severity },
    { key: alertSearchAttributes.source, value: content.source },
    { key: alertSearchAttributes.title, value: shortTitle(content.title) },
  ];
}

/** Titles searched by words need no more than this; a search attribute value is limited in size. */
const SEARCHABLE_TITLE_LENGTH = 200;

function shortTitle(title: string): string {
  return title.length <= SEARCHABLE_TITLE_LENGTH ? title : `${title.slice(0, SEARCHABLE_TITLE_LENGTH - 1)}…`;
}

// The channel pacer's contract with the activities that wake it and the alerts that ask it
// (channel-workflow.ts, docs/storm.md) lives below both: domain/channel-pacing.ts.
export {
  CHANNEL_WORKFLOW_TYPE,
  channelWorkflowId,
  type ChannelTurnKind,
  type ChannelTurnRequest,
  type ChannelTurnWithdrawal,
} from '../domain/channel-pacing';

/** The pacer to the alert workflow: this turn is yours, post now (or, `declined`, do not post). */
export interface ChannelTurnGranted {
  requestId: string;
  /** The alert ended before it asked, and a storm is on: it is listed in the digest instead. */
  declined?: boolean;
  /**
   * The turn's slot (epoch ms): the Slack call waits until then. Unset from pacers started before
   * slots, whose grant meant "now".
   */
  notBefore?: number;
}

/** The pacer to a waiting alert: this many turns are queued before its post (for the Web UI). */
export interface ChannelQueuePosition {
  requestId: string;
  ahead: number;
}

export const channelTurnSignal = defineSignal<[ChannelTurnGranted]>('channelTurn');
/**
 * An alert's post was queued while nobody had told the channel's pacer (docs/storm.md): one wake
 * per storm, not a signal per queued alert. The queue itself is in PostgreSQL.
 */
export const channelWakeSignal = defineSignal(CHANNEL_WAKE_SIGNAL);
/** Runs that took turns before slots: the alert to the pacer, the Slack call of this turn is over. */
export const channelTurnDoneSignal = defineSignal<[ChannelTurnGranted]>('channelTurnDone');
/** Runs started before the queue moved to PostgreSQL were told their place in it by signal. */
export const channelQueuePositionSignal = defineSignal<[ChannelQueuePosition]>('channelQueuePlace');

/** The handoff watcher of one schedule (schedule-handoffs-workflow.ts, docs/oncall.md). */
export const SCHEDULE_HANDOFFS_WORKFLOW_TYPE = 'scheduleHandoffsWorkflow';

/** One watcher per schedule: `schedule-handoffs/<scheduleId>`. */
export function scheduleHandoffsWorkflowId(scheduleId: string): string {
  return `schedule-handoffs/${scheduleId}`;
}

/** Who the watcher last told Slack was on call, carried across continue-as-new. */
export interface ScheduleHandoffsState {
  /** Who was on call at the last look, in the core's order; unset before the first look. */
  users?: string[];
  /** The user group that was last set to them, so that a group chosen later is set at once. */
  usergroupId?: string | null;
  /** When the answer of the last look was to change (epoch ms): a wake then is that handoff. */
  until?: number | null;
}

export interface ScheduleHandoffsInput {
  scheduleId: string;
  /** Continue-as-new once the history grows past this many events. */
  maxHistoryEvents?: number;
  /** Present after continue-as-new. */
  carried?: ScheduleHandoffsState;
}

/**
 * The schedule, its overrides or its options changed (or it was deleted): look again now. Sent by
 * the gateway with signal-with-start, so that it starts the watcher when none runs.
 */
export const scheduleChangedSignal = defineSignal('scheduleChanged');
