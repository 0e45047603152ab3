/**
 * The part of the Slack Web API that Escalator uses, behind one interface: a real client over
 * `@slack/web-api`, or a dry run that writes each message to the log (no SLACK_BOT_TOKEN yet).
 */

/** A message Escalator posted: where it is and its timestamp id. */
export interface SlackMessageRef {
  channel: string;
  ts: string;
}

export interface SlackMessageContent {
  /** Plain-text fallback shown in notifications. */
  text: string;
  blocks?: unknown[];
}

export interface SlackApi {
  postMessage(args: SlackMessageContent & { channel: string; threadTs?: string }): Promise<SlackMessageRef>;
  updateMessage(args: SlackMessageContent & SlackMessageRef): Promise<void>;
  /** Opens (or finds) the direct-message channel with a user; returns its id. */
  openDirectMessage(userId: string): Promise<string>;
}
