/**
 * What `/escalator oncall` shows: who is on call now, until when, and the next handoffs (changes of
 * people, not of whose shift it is). Pure.
 */
import { timeline } from './on-call';
import type { Schedule } from './schedule';
import { DAY_MS } from './zone-clock';

export interface Handoff {
  at: number;
  users: string[];
}

export interface OnCallSummary {
  users: string[];
  /** When the people on call change next; null when not within the horizon. */
  until: number | null;
  handoffs: Handoff[];
}

/** How far ahead handoffs are looked for. */
const HORIZON_MS = 92 * DAY_MS;

function samePeople(a: string[], b: string[]): boolean {
  return a.length === b.length && a.every((user) => b.includes(user));
}

export function onCallSummary(schedule: Schedule, now: number, count = 3): OnCallSummary {
  const segments = timeline(schedule, now, now + HORIZON_MS);
  const users = segments[0]?.users ?? [];
  const handoffs: Handoff[] = [];
  let current = users;
  for (const segment of segments.slice(1)) {
    if (samePeople(segment.users, current)) continue;
    handoffs.push({ at: segment.start, users: segment.users });
    current = segment.users;
    if (handoffs.length === count) break;
  }
  return { users, until: handoffs[0]?.at ?? null, handoffs };
}
