/**
 * People's display names for the messages Escalator renders: looked up with `users.info` through
 * the bot that speaks for the team (`SlackApi.displayNameOf`), kept for a while, and refreshed.
 *
 * users.info is Tier 4 (about 100 calls a minute per workspace, FACTS.md): with names kept for
 * NAME_TTL_MS a rotation of a few people costs a handful of calls an hour, whatever the alert
 * count. A lookup never holds a message back for long (NAME_LOOKUP_BUDGET_MS: a page must not
 * wait for a name) and never stops one: a name not known in time, or a lookup Slack refused, shows
 * the person's id instead (never a mention), and a name known before is kept until Slack answers again.
 */
import type { Logger } from '../logger';
import type { SlackApi } from './client';
import { isSlackId } from './mrkdwn';

/** Display names change rarely; an hour-old name is right nearly always. */
export const NAME_TTL_MS = 60 * 60_000;
/** After a failed lookup the id is shown (or the last name known) this long before Slack is asked again. */
export const NAME_RETRY_MS = 60_000;
/** The longest a message waits for names before it goes with ids; the lookup goes on and fills the cache. */
export const NAME_LOOKUP_BUDGET_MS = 1_000;
/** Names kept per bot at most: far more than a workspace's on-call people; the oldest go first. */
const NAMES_KEPT = 5_000;

interface KnownName {
  name?: string;
  /** Clock time after which Slack is asked again. */
  refreshAt: number;
  /** The lookup under way, shared by every message that wants this name meanwhile. */
  lookup?: Promise<void>;
}

export interface PeopleNames {
  /** Display names of those of `userIds` that could be named in time, by user id. */
  namesOf(slack: SlackApi, userIds: Iterable<string | undefined>): Promise<Record<string, string>>;
}

export function createPeopleNames({
  log,
  clock = Date.now,
  ttlMs = NAME_TTL_MS,
  retryMs = NAME_RETRY_MS,
  budgetMs = NAME_LOOKUP_BUDGET_MS,
}: {
  log: Logger;
  clock?: () => number;
  ttlMs?: number;
  retryMs?: number;
  budgetMs?: number;
}): PeopleNames {
  // One cache per bot: a user id names a person within one workspace only.
  const byBot = new WeakMap<SlackApi, Map<string, KnownName>>();

  function refresh(slack: SlackApi, known: Map<string, KnownName>, userId: string, entry: KnownName): Promise<void> {
    const lookup = slack.displayNameOf!(userId).then(
      (name) => {
        entry.name = name ?? entry.name;
        entry.refreshAt = clock() + ttlMs;
      },
      (error: unknown) => {
        entry.refreshAt = clock() + retryMs;
        log.warn({ userId, err: error }, 'users.info failed: the person is shown by id (or the name known before)');
      }
    );
    entry.lookup = lookup.finally(() => (entry.lookup = undefined));
    known.delete(userId);
    known.set(userId, entry);
    if (known.size > NAMES_KEPT) known.delete(known.keys().next().value as string);
    return entry.lookup;
  }

  return {
    async namesOf(slack, userIds) {
      const wanted = [...new Set([...userIds].filter((id): id is string => !!id && isSlackId(id)))];
      if (!slack.displayNameOf || wanted.length === 0) return {};
      let known = byBot.get(slack);
      if (!known) byBot.set(slack, (known = new Map<string, KnownName>()));
      const lookups: Promise<void>[] = [];
      for (const userId of wanted) {
        const entry = known.get(userId) ?? { refreshAt: 0 };
        if (entry.lookup) lookups.push(entry.lookup);
        else if (entry.refreshAt <= clock()) lookups.push(refresh(slack, known, userId, entry));
      }
      if (lookups.length > 0) {
        let timer: NodeJS.Timeout | undefined;
        const budget = new Promise<void>((resolve) => (timer = setTimeout(resolve, budgetMs)));
        await Promise.race([Promise.all(lookups), budget]);
        clearTimeout(timer);
      }
      const names: Record<string, string> = {};
      for (const userId of wanted) {
        const name = known.get(userId)?.name;
        if (name) names[userId] = name;
      }
      return names;
    },
  };
}
