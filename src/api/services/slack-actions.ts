/**
 * Button presses on alert messages: written to the intake journal, from which the dispatcher
 * signals the alert's workflow, with replies to the presser.
 */
import { sqlPool, type Database } from '../../db/client';
import { journalPartition, type JournalEntry } from '../../intake/journal';
import { journalWritten } from '../../intake/wake';
import type { AlertActionTaken } from '../../workflows/definitions';

/** A press, as Slack reported it, for the alert whose workflow id is the button's value. */
export interface ButtonPress extends Omit<AlertActionTaken, 'reportId'> {
  workflowId: string;
  /** The conversation the pressed message is in. */
  channelId: string;
}

/** What became of a press: taken, too late (the alert is over), or refused. */
export type PressOutcome =
  | { kind: 'recorded'; alertId: string }
  | { kind: 'alert-ended'; state: 'closed' | 'resolved'; endedBy: string | null; endedAt: Date | null }
  | { kind: 'unknown-alert' }
  | { kind: 'other-channel' };

/** The alert a press names, as `intake_take_press` read it, and the journal entry it wrote if any. */
interface PressedAlertRow {
  alert_id: string;
  state: 'open' | 'acknowledged' | 'closed' | 'resolved';
  ended_by: string | null;
  ended_at: Date | null;
  team_channel: string;
  message_channel: string | null;
  entry_id: string | null;
}

/**
 * Takes a press in one short transaction, so that Slack's 3-second deadline never waits on
 * Temporal: the press is durable once answered, and reaches the workflow in order with the
 * alert's other reports. A press counts only on its own alert's message, in its team channel:
 * a signed press that names another team's alert is refused.
 *
 * The transaction is one round trip to PostgreSQL on a connection kept for presses: under a storm
 * every round trip waits for a busy event loop and a busy server, and five of them (begin, lock,
 * read, append, commit) made a press's p99 several times its p50 (issue 7).
 */
export async function recordButtonPress(db: Database, press: ButtonPress): Promise<PressOutcome> {
  const { action, userId, userName, pressId, workflowId } = press;
  const entry: JournalEntry = { kind: 'action', workflowId, signal: { action, userId, userName, pressId } };
  const partition = journalPartition(workflowId);
  const { rows } = await sqlPool(db, 'interactive').query<PressedAlertRow>(
    'SELECT * FROM intake_take_press($1, $2, $3, $4, $5)',
    // No NOTIFY in the statement: the dispatchers are woken once it has committed (wake.ts).
    [workflowId, partition, press.channelId, JSON.stringify(entry), null]
  );
  const alert = rows[0];
  if (!alert) return { kind: 'unknown-alert' };
  if (alert.entry_id !== null) {
    journalWritten(db, partition);
    return { kind: 'recorded', alertId: alert.alert_id };
  }
  if (press.channelId !== alert.team_channel && press.channelId !== alert.message_channel) {
    return { kind: 'other-channel' };
  }
  if (alert.state === 'closed' || alert.state === 'resolved') {
    return { kind: 'alert-ended', state: alert.state, endedBy: alert.ended_by, endedAt: alert.ended_at };
  }
  throw new Error(`press on ${workflowId} neither recorded nor refused (alert state ${alert.state})`);
}

/** Replies through an interaction's `response_url` (valid 30 minutes, 5 uses). */
export interface SlackResponder {
  /** Posts a message that only the person who pressed sees; the alert message stays as it is. */
  replyEphemeral(responseUrl: string, text: string): Promise<void>;
}

const RESPONSE_URL_TIMEOUT_MS = 5_000;

/** Slack's own domains: commercial (`hooks.slack.com`) and GovSlack (`hooks.slack-gov.com`). */
const SLACK_DOMAINS = ['slack.com', 'slack-gov.com'];

/** A response_url that is not Slack's: refused before any request is made. */
export class ResponseUrlNotAllowedError extends Error {
  override name = 'ResponseUrlNotAllowedError';
}

const LOOPBACK_HOSTNAMES = ['localhost', '127.0.0.1', '[::1]'];

/**
 * Whether Escalator may POST to `responseUrl`: HTTPS on a Slack domain, or the origin of the
 * configured Slack API URL when it is not Slack's own (the local stand-in of tests and trials).
 * A payload is signed by Slack, but a leaked signing secret must not turn the gateway into a
 * client for any address its network can reach.
 */
export function isAllowedResponseUrl(responseUrl: string, slackApiUrl?: string, previewReplies = false): boolean {
  let url: URL;
  try {
    url = new URL(responseUrl);
  } catch {
    return false;
  }
  if (url.username || url.password) return false;
  const host = url.hostname.toLowerCase();
  // In dry run the local preview plays Slack, and hands out response_urls of its own, on loopback.
  if (previewReplies && LOOPBACK_HOSTNAMES.includes(host) && url.pathname.startsWith('/preview/response/')) return true;
  if (url.protocol === 'https:' && SLACK_DOMAINS.some((domain) => host === domain || host.endsWith(`.${domain}`))) {
    return true;
  }
  if (!slackApiUrl) return false;
  const standIn = new URL(slackApiUrl);
  return !SLACK_DOMAINS.some((domain) => standIn.hostname.endsWith(domain)) && url.origin === standIn.origin;
}

/**
 * The real responder: a JSON POST to the response_url Slack gave in the (verified) payload, only
 * when it is Slack's (see isAllowedResponseUrl), never following a redirect.
 */
export function createSlackResponder(
  options: { slackApiUrl?: string; timeoutMs?: number; previewReplies?: boolean } = {}
): SlackResponder {
  const timeoutMs = options.timeoutMs ?? RESPONSE_URL_TIMEOUT_MS;
  return {
    async replyEphemeral(responseUrl, text) {
      if (!isAllowedResponseUrl(responseUrl, options.slackApiUrl, options.previewReplies)) {
        throw new ResponseUrlNotAllowedError(`response_url is not a Slack URL: ${new URL(responseUrl).host || '?'}`);
      }
      const response = await fetch(responseUrl, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json; charset=utf-8' },
        body: JSON.stringify({ response_type: 'ephemeral', replace_original: false, text }),
        signal: AbortSignal.timeout(timeoutMs),
        redirect: 'error',
      });
      if (!response.ok) throw new Error(`response_url answered ${response.status}`);
    },
  };
}
