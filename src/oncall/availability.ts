/**
 * Presence, the seed's way: of the people an alert may go to, in order, the first who is reachable
 * in Slack (not away, not in Do Not Disturb). When nobody is, the first is paged anyway: an alert
 * with nobody called is worse than a call to someone away. Pure: the activity asks Slack and
 * hands the answers in.
 */

/** Why a person was passed over. */
export type Absence = 'away' | 'dnd';

export interface SkippedPerson {
  userId: string;
  why: Absence;
}

export interface AvailablePick {
  /** Whom to page; null only when there are no candidates. */
  userId: string | null;
  /** Candidates before the pick who were passed over, in order. */
  skipped: SkippedPerson[];
  /** The next reachable candidate after the pick (for escalation), or null. */
  next: string | null;
  /** Every candidate was away or in Do Not Disturb: `userId` is the first, paged anyway. */
  nobodyAvailable: boolean;
}

/** `absences` maps a person to why they cannot be reached; absent or null: reachable (or unknown). */
export function pickAvailable(
  candidates: readonly string[],
  absences: ReadonlyMap<string, Absence | null>
): AvailablePick {
  const unique = [...new Set(candidates)];
  const reachable = unique.filter((userId) => !absences.get(userId));
  if (reachable.length === 0) {
    const [first = null, second = null] = unique;
    return { userId: first, skipped: [], next: second, nobodyAvailable: unique.length > 0 };
  }
  const userId = reachable[0] as string;
  const skipped = unique
    .slice(0, unique.indexOf(userId))
    .map((person) => ({ userId: person, why: absences.get(person) as Absence }));
  return { userId, skipped, next: reachable[1] ?? null, nobodyAvailable: false };
}

const ABSENCE_WORDS: Record<Absence, string> = { away: 'away', dnd: 'in Do Not Disturb' };

/** "skipped U1 (away), U2 (in Do Not Disturb)", or "" when nobody was. */
export function describeSkipped(pick: AvailablePick): string {
  if (pick.nobodyAvailable) return 'everyone is away or in Do Not Disturb: paged anyway';
  if (pick.skipped.length === 0) return '';
  return `skipped ${pick.skipped.map(({ userId, why }) => `${userId} (${ABSENCE_WORDS[why]})`).join(', ')}`;
}
