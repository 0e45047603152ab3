/**
 * Display names for messages: looked up once, kept for their time, refreshed after it; a lookup
 * that fails or is slow never holds a message back, and a name known before outlives a failure.
 */
import { createLogger } from '../../src/logger';
import type { SlackApi } from '../../src/slack/client';
import { createPeopleNames, NAME_RETRY_MS, NAME_TTL_MS } from '../../src/slack/people-names';

const log = createLogger({ level: 'error' });

/** A bot whose users.info answers from `directory`, counting the calls; `failing` makes it throw. */
function botWith(directory: Record<string, string>) {
  const asked: string[] = [];
  let failing = false;
  let hang = false;
  const bot: SlackApi = {
    displayNameOf: async (userId) => {
      asked.push(userId);
      if (hang) return new Promise<never>(() => undefined);
      if (failing) throw new Error('slack_webapi_platform_error: ratelimited');
      return directory[userId];
    },
    postMessage: () => Promise.reject(new Error('not used')),
    updateMessage: () => Promise.reject(new Error('not used')),
    updateUsergroupUsers: () => Promise.reject(new Error('not used')),
  };
  return {
    bot,
    asked,
    directory,
    fail: (on: boolean) => (failing = on),
    hangFromNowOn: () => (hang = true),
  };
}

describe('people names', () => {
  it('looks each person up once while their name is fresh, for every message that shows them', async () => {
    const now = 1_000_000;
    const names = createPeopleNames({ log, clock: () => now });
    const { bot, asked } = botWith({ U0ADA: 'Ada', U0GRACE: 'Grace' });

    expect(await names.namesOf(bot, ['U0ADA', 'U0GRACE', 'U0ADA'])).toEqual({ U0ADA: 'Ada', U0GRACE: 'Grace' });
    expect(await names.namesOf(bot, ['U0ADA', undefined])).toEqual({ U0ADA: 'Ada' });
    expect(asked).toEqual(['U0ADA', 'U0GRACE']);
  });

  it('asks Slack again once the name is older than its time to live, and shows the new name', async () => {
    let now = 1_000_000;
    const names = createPeopleNames({ log, clock: () => now });
    const people = botWith({ U0ADA: 'Ada' });

    await names.namesOf(people.bot, ['U0ADA']);
    people.directory.U0ADA = 'Ada Lovelace';
    now += NAME_TTL_MS - 1;
    expect(await names.namesOf(people.bot, ['U0ADA'])).toEqual({ U0ADA: 'Ada' });
    now += 1;
    expect(await names.namesOf(people.bot, ['U0ADA'])).toEqual({ U0ADA: 'Ada Lovelace' });
    expect(people.asked).toEqual(['U0ADA', 'U0ADA']);
  });

  it('keeps the name known before when a refresh fails, and waits a minute before asking again', async () => {
    let now = 1_000_000;
    const names = createPeopleNames({ log, clock: () => now });
    const people = botWith({ U0ADA: 'Ada' });
    await names.namesOf(people.bot, ['U0ADA']);

    now += NAME_TTL_MS;
    people.fail(true);
    expect(await names.namesOf(people.bot, ['U0ADA'])).toEqual({ U0ADA: 'Ada' });
    expect(await names.namesOf(people.bot, ['U0ADA'])).toEqual({ U0ADA: 'Ada' });
    expect(people.asked).toHaveLength(2);

    now += NAME_RETRY_MS;
    people.fail(false);
    expect(await names.namesOf(people.bot, ['U0ADA'])).toEqual({ U0ADA: 'Ada' });
    expect(people.asked).toHaveLength(3);
  });

  it('answers without a name (the id is shown) when Slack fails or has none', async () => {
    const names = createPeopleNames({ log });
    const people = botWith({});
    expect(await names.namesOf(people.bot, ['U0NOBODY'])).toEqual({});
    people.fail(true);
    expect(await names.namesOf(people.bot, ['U0BROKEN'])).toEqual({});
  });

  it('never holds a message back past its budget when Slack is slow to answer', async () => {
    const names = createPeopleNames({ log, budgetMs: 50 });
    const people = botWith({ U0SLOW: 'Slow' });
    people.hangFromNowOn();

    const started = Date.now();
    expect(await names.namesOf(people.bot, ['U0SLOW'])).toEqual({});
    expect(Date.now() - started).toBeLessThan(1_000);
  });

  it('looks up nobody where Slack cannot be asked (the dry run) or for what is not a Slack id', async () => {
    const names = createPeopleNames({ log });
    const people = botWith({ U0ADA: 'Ada' });
    const dryRun: SlackApi = {
      postMessage: () => Promise.reject(new Error('not used')),
      updateMessage: () => Promise.reject(new Error('not used')),
      updateUsergroupUsers: () => Promise.reject(new Error('not used')),
    };

    expect(await names.namesOf(dryRun, ['U0ADA'])).toEqual({});
    expect(await names.namesOf(people.bot, ['someone@example.com', 'source'])).toEqual({});
    expect(people.asked).toEqual([]);
  });

  it('keeps names per bot: the same id in another workspace is another person', async () => {
    const names = createPeopleNames({ log });
    const first = botWith({ U0SAME: 'Ada' });
    const second = botWith({ U0SAME: 'Grace' });

    expect(await names.namesOf(first.bot, ['U0SAME'])).toEqual({ U0SAME: 'Ada' });
    expect(await names.namesOf(second.bot, ['U0SAME'])).toEqual({ U0SAME: 'Grace' });
  });
});
