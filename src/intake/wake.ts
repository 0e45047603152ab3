/**
 * Waking the dispatchers once a report or a press is in the intake journal.
 *
 * The writers used to NOTIFY inside their own transaction. PostgreSQL delivers a notification by
 * taking one lock for the whole server at commit, and it holds that lock until the commit is on
 * disk. So every report and every press committed one after another, each waiting for its own
 * fsync, with no group commit. Under an open loop of 100 reports a second, sampling
 * pg_stat_activity showed the intake statements waiting on that lock (`Lock/object`) as often as
 * on the disk. A press then waited behind the reports queued at the lock.
 *
 * Now a writer commits alone, and wakes the dispatchers afterwards:
 * - If this process's own dispatcher holds the alert's partition, it is called directly.
 * - Otherwise the dispatchers of the other processes are told with a NOTIFY of its own. That
 *   transaction commits without waiting for the disk: it writes nothing that needs to be kept, and
 *   a lost notification costs one poll interval. Only one NOTIFY is in flight at a time; writes made
 *   meanwhile are covered by the next one.
 */
import { COMMIT_WITHOUT_WAITING_FOR_DISK, sqlPoolOf, type Database } from '../db/client';
import { JOURNAL_CHANNEL } from './journal';

/** A dispatcher in this process, as the writers see it. */
export interface LocalDispatcher {
  /** Whether it holds the journal partition now. */
  owns(partition: number): boolean;
  /** Cuts its wait short: new entries are waiting. */
  wake(): void;
}

interface Wakers {
  local: Set<LocalDispatcher>;
  notifying: boolean;
  notifyAgain: boolean;
}

const wakersByDatabase = new WeakMap<Database, Wakers>();

function wakersOf(db: Database): Wakers {
  let wakers = wakersByDatabase.get(db);
  if (!wakers) {
    wakers = { local: new Set(), notifying: false, notifyAgain: false };
    wakersByDatabase.set(db, wakers);
  }
  return wakers;
}

/** A dispatcher of this process is woken directly for writes through `db`; returns its removal. */
export function addLocalDispatcher(db: Database, dispatcher: LocalDispatcher): () => void {
  const { local } = wakersOf(db);
  local.add(dispatcher);
  return () => void local.delete(dispatcher);
}

/** Tells the dispatchers that entries of `partition` were committed. Never throws, never waits. */
export function journalWritten(db: Database, partition: number): void {
  const wakers = wakersOf(db);
  const owner = [...wakers.local].find((dispatcher) => dispatcher.owns(partition));
  if (owner) owner.wake();
  else notifyOtherProcesses(db, wakers);
}

function notifyOtherProcesses(db: Database, wakers: Wakers): void {
  if (wakers.notifying) {
    wakers.notifyAgain = true;
    return;
  }
  wakers.notifying = true;
  wakers.notifyAgain = false;
  sqlPoolOf(db)
    .query(`SELECT ${COMMIT_WITHOUT_WAITING_FOR_DISK}, pg_notify($1, '')`, [JOURNAL_CHANNEL])
    .catch(() => undefined) // the owners' next poll finds the entries
    .finally(() => {
      wakers.notifying = false;
      if (wakers.notifyAgain) notifyOtherProcesses(db, wakers);
    });
}
