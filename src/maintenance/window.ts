/**
 * Maintenance windows: when one is in force, for which alerts, until when, and when the next
 * begins. A window runs from `startsAt` to `endsAt` (none: until deleted); with a `recurrence` (an
 * Alertmanager time_interval) it is in force only inside it. `match` scopes it to alerts whose
 * labels (fields) and source match. Pure functions of (windows, instant).
 */
import { intervalContains, nextChange, type CompiledInterval } from './time-interval';

export interface WindowMatch {
  /** Every one must be among the alert's labels with this exact value. */
  labels?: Record<string, string>;
  source?: string;
}

export interface MaintenanceWindow {
  id: string;
  reason: string | null;
  startsAt: number;
  endsAt: number | null;
  recurrence: CompiledInterval | null;
  match: WindowMatch | null;
}

/** What a window is matched against: the alert's source and its labels. */
export interface AlertTraits {
  source: string;
  labels: Record<string, string>;
}

export function windowMatches(window: MaintenanceWindow, alert: AlertTraits | undefined): boolean {
  if (!window.match || !alert) return true;
  const { labels = {}, source } = window.match;
  if (source !== undefined && source !== alert.source) return false;
  return Object.entries(labels).every(([name, value]) => alert.labels[name] === value);
}

export function windowInForce(window: MaintenanceWindow, at: number): boolean {
  if (at < window.startsAt || (window.endsAt !== null && at >= window.endsAt)) return false;
  return window.recurrence === null || intervalContains(window.recurrence, at);
}

/** When a window in force at `at` stops being: its end, or its recurrence's; null: not known ahead. */
export function windowUntil(window: MaintenanceWindow, at: number): number | null {
  const recurrenceEnd = window.recurrence ? nextChange(window.recurrence, at, false) : null;
  if (window.endsAt === null) return recurrenceEnd;
  return recurrenceEnd === null ? window.endsAt : Math.min(recurrenceEnd, window.endsAt);
}

/** When a window not in force at `at` next comes into force, or null. */
export function windowNextStart(window: MaintenanceWindow, at: number): number | null {
  const from = Math.max(at, window.startsAt);
  if (window.endsAt !== null && from >= window.endsAt) return null;
  if (!window.recurrence) return from > at ? from : null;
  const start =
    intervalContains(window.recurrence, from) && from > at ? from : nextChange(window.recurrence, from, true);
  return start !== null && (window.endsAt === null || start < window.endsAt) ? start : null;
}

export interface MaintenanceAnswer {
  active: boolean;
  /** The windows in force (for this alert, when given), each with until when. */
  windows: Array<{ id: string; reason: string | null; until: number | null }>;
  /** When the last of them ends (the alert may be paged again then); null: unknown or none. */
  until: number | null;
}

/** Whether maintenance is in force at `at` (for `alert`, when given: only windows that match it). */
export function maintenanceAt(windows: MaintenanceWindow[], at: number, alert?: AlertTraits): MaintenanceAnswer {
  const inForce = windows
    .filter((window) => windowMatches(window, alert) && windowInForce(window, at))
    .map((window) => ({ id: window.id, reason: window.reason, until: windowUntil(window, at) }));
  const ends = inForce.map((window) => window.until);
  const until = ends.length === 0 || ends.includes(null) ? null : Math.max(...(ends as number[]));
  return { active: inForce.length > 0, windows: inForce, until };
}
