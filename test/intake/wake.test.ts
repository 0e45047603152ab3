import { Client as PgClient, type Notification } from 'pg';
import { createDatabase, sqlPoolOf, type Database } from '../../src/db/client';
import { JOURNAL_CHANNEL } from '../../src/intake/journal';
import { addLocalDispatcher, journalWritten } from '../../src/intake/wake';
import { waitFor } from '../helpers/wait';

/**
 * Other test files write to the same database at the same time, so notifications are counted only
 * from this file's one connection (a pool of one: its backend sends every NOTIFY of `db`).
 */
const DATABASE_URL = process.env.DATABASE_URL as string;

describe('waking the dispatchers after a journal write', () => {
  let db: Database;
  let backendPid: number;
  let listener: PgClient;
  const heard: Notification[] = [];
  const ours = () => heard.filter((notification) => notification.processId === backendPid);

  beforeAll(async () => {
    db = createDatabase(DATABASE_URL, { poolSize: 1 });
    const { rows } = await sqlPoolOf(db).query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
    backendPid = rows[0]!.pid;
    listener = new PgClient({ connectionString: DATABASE_URL });
    listener.on('notification', (notification) => heard.push(notification));
    await listener.connect();
    await listener.query(`LISTEN ${JOURNAL_CHANNEL}`);
  });

  afterAll(async () => {
    await listener?.end();
    await db?.$disconnect();
  });

  beforeEach(() => {
    heard.length = 0;
  });

  test('the dispatcher of this process that holds the partition is woken directly, with no NOTIFY', async () => {
    const woken: number[] = [];
    const remove = addLocalDispatcher(db, { owns: (partition) => partition === 3, wake: () => woken.push(3) });
    try {
      journalWritten(db, 3);
      expect(woken).toEqual([3]);
      // A NOTIFY sent after it would come after this round trip on the same connection.
      await sqlPoolOf(db).query('SELECT 1');
      await new Promise((resolve) => setTimeout(resolve, 200));
      expect(ours()).toEqual([]);
    } finally {
      remove();
    }
  });

  test('a partition no dispatcher of this process holds is announced to the others with a NOTIFY', async () => {
    const woken: number[] = [];
    const remove = addLocalDispatcher(db, { owns: (partition) => partition === 3, wake: () => woken.push(3) });
    try {
      journalWritten(db, 5);
      await waitFor('the NOTIFY of this process', () => ours().length === 1);
      expect(woken).toEqual([]);
    } finally {
      remove();
    }
  });

  test('writes made while a NOTIFY is in flight share the next one', async () => {
    for (let i = 0; i < 50; i++) journalWritten(db, i % 16);
    await waitFor('the NOTIFYs of this process', () => ours().length >= 2);
    await sqlPoolOf(db).query('SELECT 1');
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(ours()).toHaveLength(2);
  });

  test('a dispatcher that has stopped is no longer woken', async () => {
    const woken: number[] = [];
    const remove = addLocalDispatcher(db, { owns: () => true, wake: () => woken.push(1) });
    remove();
    journalWritten(db, 1);
    await waitFor('the NOTIFY of this process', () => ours().length === 1);
    expect(woken).toEqual([]);
  });
});
