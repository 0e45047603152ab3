/** What `/escalator maintenance` and `status` say about a team's maintenance windows. Pure; pings nobody. */
import type { StoredWindow } from '../maintenance/store';
import { escapeText, userName } from './mrkdwn';

/** "14:00 UTC", or "Dec 24 14:00 UTC" when not within a day of `now`. */
function utcWhen(iso: string | number, now: number): string {
  const date = new Date(iso);
  const time = `${date.toISOString().slice(11, 16)} UTC`;
  return Math.abs(date.getTime() - now) < 86_400_000 ? time : `${date.toISOString().slice(0, 10)} ${time}`;
}

export function maintenanceStartedMessage(actor: string, window: StoredWindow): string {
  const why = window.reason ? ` (${escapeText(window.reason)})` : '';
  const until = window.endsAt === null ? '' : ` until ${utcWhen(window.endsAt, window.startsAt)}`;
  return (
    `:construction: ${userName(actor)} started maintenance${why}${until}: alerts are shown here, nobody is paged. ` +
    'When it ends, alerts still open and not acknowledged are paged at once.'
  );
}

export function maintenanceEndedMessage(actor: string, ended: number, recurring: StoredWindow[]): string {
  const still =
    recurring.length > 0
      ? ` A recurring window is still in force (${recurring.map((window) => escapeText(window.reason ?? window.id)).join(', ')}): delete it through the API to end it.`
      : '';
  if (ended === 0) return `:construction: No one-off maintenance to end.${still}`;
  return `:white_check_mark: ${userName(actor)} ended maintenance: alerts page again, open ones at once.${still}`;
}

/** The line `/escalator status` shows: the window in force, or the next one; empty when neither. */
export function maintenanceLine(
  at: {
    active: boolean;
    windows: Array<{ reason: string | null; until: string | null }>;
    next: { reason: string | null; startsAt: string } | null;
  },
  now = Date.now()
): string {
  const reason = (text: string | null) => (text ? ` (${escapeText(text)})` : '');
  if (at.active) {
    const window = at.windows[0]!;
    return `:construction: Maintenance${reason(window.reason)}${window.until ? ` until ${utcWhen(window.until, now)}` : ''}: nobody is paged.`;
  }
  if (at.next) return `Next maintenance${reason(at.next.reason)}: ${utcWhen(at.next.startsAt, now)}.`;
  return '';
}
