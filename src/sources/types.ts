import type { AlertContent } from '../domain/alert';

/** One alert as a source reported it, normalised: what the gateway turns into a workflow signal. */
export interface IncomingAlert {
  /** `firing` opens or repeats the alert; `resolved` closes it. */
  status: 'firing' | 'resolved';
  /** The source's own key where it has one; otherwise derived from source and title. */
  fingerprint: string;
  /**
   * Which firing of the problem this report is about, where the source says so (Alertmanager:
   * `startsAt`; CloudWatch: the state change's time; EventBridge: the event id; generic:
   * `startsAt`). A report of a firing already seen is a re-send: it refreshes "last seen" and is
   * not counted again. Unset: every report is a firing of its own.
   */
  firingKey?: string;
  content: AlertContent;
  /**
   * The sender's own word for the severity, when it was an alias mapped onto ours (`high` → `error`):
   * the answer says so.
   */
  severityMappedFrom?: string;
  /**
   * Set when the report must be recorded but must not open an alert (CloudWatch
   * INSUFFICIENT_DATA by default): the reason, shown in the response.
   */
  ignoredBecause?: string;
  /**
   * A notice for the record (an SNS subscription confirmed or ended): posted to the channel
   * without mentioning anyone, and never escalated.
   */
  notice?: true;
}

/** A body that will never become an alert: answered 400 with this message. */
export class InvalidAlertError extends Error {
  override name = 'InvalidAlertError';
}
