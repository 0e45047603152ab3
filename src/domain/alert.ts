/**
 * Alert domain types shared by the gateway, the workflow and the activities.
 * Pure and deterministic: the workflow bundle imports this file.
 */

/** An alert's state: the same words in the API, Web UI search attributes, metrics labels and Slack. */
export const ALERT_STATES = ['open', 'acknowledged', 'closed', 'resolved'] as const;
export type AlertState = (typeof ALERT_STATES)[number];

export const SEVERITIES = ['critical', 'error', 'warning', 'info'] as const;
export type Severity = (typeof SEVERITIES)[number];

/** A labelled value shown with the alert (account, region, labels, unknown fields). */
export interface AlertField {
  label: string;
  value: string;
}

/** What a source said about a problem, normalised from any webhook format. */
export interface AlertContent {
  title: string;
  text?: string;
  severity: Severity;
  /** Where it came from: `cloudwatch`, `alertmanager`, `generic`, or the sender's own name. */
  source: string;
  link?: string;
  fields?: AlertField[];
}

/** The team as it was when the alert opened; later edits to the team do not move open alerts. */
export interface TeamSnapshot {
  id: string;
  name: string;
  slackChannelId: string;
  /** Slack user ids in escalation order. */
  engineers: string[];
  escalationTimeoutMs: number;
  /** The Slack installation whose bot serves the team (OAuth mode); unset: SLACK_BOT_TOKEN. */
  installationId?: string;
  /** The team's on-call schedule: a new alert goes first to whoever is on call (src/oncall/). */
  scheduleId?: string;
  /** Pass over people away or in Do Not Disturb in Slack (src/oncall/availability.ts). */
  skipAway?: true;
}

/** Who holds the alert now: one engineer, or the whole team once escalation ran out of engineers. */
export type AlertHolder = { kind: 'engineer'; userId: string } | { kind: 'team' };

/** The three buttons on every alert message; their ids are part of the wire contract. */
export const ALERT_ACTIONS = ['ack', 'close', 'pass'] as const;
export type AlertAction = (typeof ALERT_ACTIONS)[number];

/** Everything needed to render an alert's Slack message at one moment of its life. */
export interface AlertView {
  alertId: string;
  workflowId: string;
  team: Pick<TeamSnapshot, 'name' | 'slackChannelId' | 'installationId'>;
  content: AlertContent;
  state: AlertState;
  holder: AlertHolder;
  occurrences: number;
  firstSeenAt: string;
  lastSeenAt: string;
  acknowledgedBy?: string;
  endedBy?: string;
  /** Why the holder holds it, when a schedule chose them: `on call in Primary until Mon 09:00`. */
  assignedBecause?: string;
  /** The engineer or team being called at this step: the only one the message may mention. */
  calling?: AlertHolder;
}
