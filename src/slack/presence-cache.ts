/**
 * Who is reachable in Slack, asked at most once a minute per person: `users.getPresence` and
 * `dnd.info` are Tier 3 (about 50 calls a minute per workspace), and an outage opens many alerts
 * for the same few people at once. Concurrent questions about one person share one call. A call
 * that fails counts as reachable (an unknown presence never keeps a person from being paged) and is
 * remembered for the same minute, so that a rate-limited workspace is not asked again at once.
 */
import type { Absence } from '../oncall/availability';
import type { Logger } from '../logger';
import type { SlackApi } from './client';

export const PRESENCE_TTL_MS = 60_000;
/** Entries kept before the expired ones are swept (people, across workspaces). */
const SWEEP_AT = 10_000;

export interface PresenceCache {
  /** Why `userId` cannot be reached now, or null; `workspace` keeps ids of different workspaces apart. */
  absenceOf(slack: SlackApi, workspace: string, userId: string): Promise<Absence | null>;
}

export function createPresenceCache({
  log,
  ttlMs = PRESENCE_TTL_MS,
  now = Date.now,
}: {
  log: Logger;
  ttlMs?: number;
  now?: () => number;
}): PresenceCache {
  const entries = new Map<string, { expiresAt: number; absence: Promise<Absence | null> }>();

  async function ask(slack: SlackApi, userId: string): Promise<Absence | null> {
    if (!slack.presenceOf) return null;
    try {
      const presence = await slack.presenceOf(userId);
      return presence.dnd ? 'dnd' : presence.away ? 'away' : null;
    } catch (error) {
      log.warn({ err: error, userId }, 'Slack presence unknown: the person counts as reachable');
      return null;
    }
  }

  return {
    absenceOf(slack, workspace, userId) {
      const key = `${workspace}/${userId}`;
      const at = now();
      const cached = entries.get(key);
      if (cached && cached.expiresAt > at) return cached.absence;
      if (entries.size >= SWEEP_AT) {
        for (const [other, entry] of entries) if (entry.expiresAt <= at) entries.delete(other);
      }
      const absence = ask(slack, userId);
      entries.set(key, { expiresAt: at + ttlMs, absence });
      return absence;
    },
  };
}
