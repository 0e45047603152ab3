/**
 * The limits every alert input is held to, checked once at the door: before any source module
 * reads the body (depth, width, string lengths, alerts per group), and on the keys the sources make
 * of it before anything is stored (a key becomes an index entry, a workflow id and a button value).
 * A refusal is an InvalidAlertError: a 400 naming what is wrong, which senders do not retry, and no
 * stack trace in the log. Each limit is far above what a real sender sends (see SECURITY.md).
 */
import { readRequestBody, type GenericRequest } from './generic';
import { InvalidAlertError, type IncomingAlert } from './types';

export const INPUT_LIMITS = {
  /** Levels of objects and lists from the body's root: Alertmanager's deepest is 4, EventBridge's about 8. */
  depth: 32,
  /** Entries in one object or list (Alertmanager's `alerts` has its own limit below). */
  entries: 1_000,
  /** Characters in any one string of the body; the text shown with an alert is cut to 20,000 anyway. */
  stringLength: 65_536,
  /** Alerts in one Alertmanager or Grafana group (Alertmanager's `max_alerts` can cap what it sends). */
  alertsPerGroup: 1_000,
  /**
   * Characters in an alert's key (X-Alert-Key, `key`, `fingerprint`, an alarm ARN): keys are
   * indexed in PostgreSQL, whose index entries hold at most about 2,700 bytes.
   */
  keyLength: 500,
  /** Characters in what names a firing (`startsAt`, an event id, a state change's time). */
  firingKeyLength: 200,
} as const;

/**
 * Refuses a body (or query) deeper, wider or with longer strings than INPUT_LIMITS allows. Walks
 * with its own stack, so that the check itself cannot overflow whatever it is given.
 */
export function assertInputWithinLimits(value: unknown, what = 'body'): void {
  if (typeof value === 'string') {
    assertStringLength(value, what);
    return;
  }
  const alerts = typeof value === 'object' && value !== null ? (value as { alerts?: unknown }).alerts : undefined;
  if (Array.isArray(alerts) && alerts.length > INPUT_LIMITS.alertsPerGroup) {
    throw new InvalidAlertError(
      `alerts: ${alerts.length} alerts in one group, at most ${INPUT_LIMITS.alertsPerGroup} ` +
        "(Alertmanager's max_alerts in the webhook_config sends fewer)"
    );
  }
  // Each value is named by its top-level key (`labels`, `detail`), as a sender reads its body.
  const pending: Array<{ value: unknown; name: string; depth: number }> = [{ value, name: what, depth: 0 }];
  while (pending.length > 0) {
    const current = pending.pop()!;
    if (typeof current.value === 'string') {
      assertStringLength(current.value, current.name);
      continue;
    }
    if (typeof current.value !== 'object' || current.value === null) continue;
    if (current.depth >= INPUT_LIMITS.depth) {
      throw new InvalidAlertError(`${current.name} is nested more than ${INPUT_LIMITS.depth} levels deep`);
    }
    const entries: Array<[string, unknown]> = Array.isArray(current.value)
      ? current.value.map((entry, index) => [String(index), entry])
      : Object.entries(current.value);
    if (entries.length > INPUT_LIMITS.entries) {
      throw new InvalidAlertError(
        `${current.name} has more than ${INPUT_LIMITS.entries} entries in one object or list`
      );
    }
    for (const [key, entry] of entries) {
      assertStringLength(key, `a key in ${current.name}`);
      pending.push({
        value: entry,
        name: current.depth === 0 ? shortened(key) : current.name,
        depth: current.depth + 1,
      });
    }
  }
}

/** Refuses alerts whose keys are too long to keep (see INPUT_LIMITS.keyLength). */
export function assertAlertsWithinLimits(alerts: readonly IncomingAlert[]): void {
  for (const alert of alerts) {
    if (alert.fingerprint.length > INPUT_LIMITS.keyLength) {
      throw new InvalidAlertError(
        `the alert's key (X-Alert-Key, key, fingerprint or the source's id) is ${alert.fingerprint.length} ` +
          `characters, at most ${INPUT_LIMITS.keyLength}`
      );
    }
    if (alert.firingKey !== undefined && alert.firingKey.length > INPUT_LIMITS.firingKeyLength) {
      throw new InvalidAlertError(
        `what names the firing (startsAt, or the event's id or time) is ${alert.firingKey.length} characters, ` +
          `at most ${INPUT_LIMITS.firingKeyLength}`
      );
    }
  }
}

/** Refuses a webhook request over the limits: its decoded body, its query and its X-Alert-Key. */
export function assertRequestWithinLimits(request: GenericRequest): void {
  if (request.alertKey !== undefined && request.alertKey.length > INPUT_LIMITS.keyLength) {
    throw new InvalidAlertError(
      `X-Alert-Key: ${request.alertKey.length} characters, at most ${INPUT_LIMITS.keyLength}`
    );
  }
  if (request.query) assertInputWithinLimits(request.query, 'query');
  const body = readRequestBody(request);
  // Plain text is one string whose first line is the title and the rest the text, each cut to size.
  if (body.kind === 'json') assertInputWithinLimits(body.value);
  if (body.kind === 'fields') assertInputWithinLimits(body.values);
}

function assertStringLength(value: string, path: string): void {
  if (value.length > INPUT_LIMITS.stringLength) {
    throw new InvalidAlertError(
      `${path}: a string of ${value.length} characters, at most ${INPUT_LIMITS.stringLength}`
    );
  }
}

/** A key as it may appear in an error message: a sender's 60,000-character key is not echoed. */
function shortened(key: string): string {
  return key.length <= 40 ? key : `${key.slice(0, 40)}…`;
}
