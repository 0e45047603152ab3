/** The one PostgreSQL client of a process: Prisma over node-postgres, no native engine. */
import { PrismaPg } from '@prisma/adapter-pg';
import { Pool, type PoolClient } from 'pg';
import { DEFAULT_DATABASE_POOL_SIZE } from '../config';
import { PrismaClient } from '../generated/prisma/client';

export type Database = PrismaClient;
export { Prisma } from '../generated/prisma/client';
export type { AlertState as DbAlertState } from '../generated/prisma/client';

/** A caller waits this long for a free connection before the request is shed as overload (503). */
export const POOL_ACQUIRE_TIMEOUT_MS = 2_000;

/**
 * Open connections are kept, however long they stay idle (node-postgres closes them after 10 s by
 * default): a storm comes after a quiet spell, and its first reports and presses would otherwise
 * each wait for a new connection (a backend forked, authenticated, and the intake functions
 * compiled again for its session: 11 ms on an idle 2-core machine, 250 ms measured for the first
 * presses of an open-loop burst). A pool of 10 is 10 idle backends at most.
 */
const KEEP_IDLE_CONNECTIONS = { idleTimeoutMillis: 0 };

/**
 * Put in a statement that runs on its own (autocommit), it lets that statement's commit skip the
 * wait for the disk: `set_config(…, true)` is SET LOCAL, which lasts until the transaction ends,
 * after its commit record is written. Only for writes whose loss in a crash of PostgreSQL or the
 * machine costs nothing but a repetition (a wake-up, a "delivered" mark); never for a report.
 */
export const COMMIT_WITHOUT_WAITING_FOR_DISK = `set_config('synchronous_commit', 'off', true)`;

export interface DatabaseOptions {
  poolSize?: number;
}

/** The node-postgres pool under each client, for the few hot paths that speak SQL directly. */
const pools = new WeakMap<Database, Pool>();

/**
 * Connections kept apart for what a person is waiting on (a button press): in a storm every
 * pooled connection can be busy with reports, and a press must not queue behind them (issue 7:
 * a press answered in 100 ms at p99 under load). Opened on first use, so processes that never
 * take a press never open them; a gateway opens them as it starts (openInteractiveConnections).
 */
export const INTERACTIVE_CONNECTIONS = 2;
const interactivePools = new WeakMap<Database, () => Pool>();

/** Which connections a transaction runs on: the shared pool, or the ones kept for presses. */
export type ConnectionLane = 'shared' | 'interactive';

export function createDatabase(
  databaseUrl: string,
  { poolSize = DEFAULT_DATABASE_POOL_SIZE }: DatabaseOptions = {}
): Database {
  const pool = new Pool({
    connectionString: databaseUrl,
    max: poolSize,
    connectionTimeoutMillis: POOL_ACQUIRE_TIMEOUT_MS,
    ...KEEP_IDLE_CONNECTIONS,
  });
  // An idle connection that the server dropped (restart, failover) reports here; without a
  // listener node-postgres would throw it out of the event loop and end the process.
  pool.on('error', () => undefined);
  // Prisma ends the pool on $disconnect, as it would one it had made itself.
  const db = new PrismaClient({ adapter: new PrismaPg(pool, { disposeExternalPool: true }) });
  pools.set(db, pool);
  let interactive: Pool | undefined;
  interactivePools.set(db, () => {
    interactive ??= new Pool({
      connectionString: databaseUrl,
      max: INTERACTIVE_CONNECTIONS,
      connectionTimeoutMillis: POOL_ACQUIRE_TIMEOUT_MS,
      ...KEEP_IDLE_CONNECTIONS,
      allowExitOnIdle: true,
    }).on('error', () => undefined);
    return interactive;
  });
  const disconnect = db.$disconnect.bind(db);
  db.$disconnect = async () => {
    await interactive?.end();
    interactive = undefined;
    await disconnect();
  };
  return db;
}

/** Opens the connections kept for presses now (a gateway starting), so that its first press does not connect. */
export async function openInteractiveConnections(db: Database): Promise<void> {
  const pool = sqlPool(db, 'interactive');
  const clients = await Promise.all(Array.from({ length: INTERACTIVE_CONNECTIONS }, () => pool.connect()));
  for (const client of clients) client.release();
}

/** The pool that `db` runs on: one set of connections per process, shared by Prisma and raw SQL. */
export function sqlPoolOf(db: Database): Pool {
  const pool = pools.get(db);
  if (!pool) throw new Error('this database client was not made by createDatabase');
  return pool;
}

/** The connections of `db` that a lane runs on, for statements sent as they are. */
export function sqlPool(db: Database, lane: ConnectionLane = 'shared'): Pool {
  const pool = lane === 'interactive' ? interactivePools.get(db)?.() : pools.get(db);
  if (!pool) throw new Error('this database client was not made by createDatabase');
  return pool;
}

/**
 * Runs `work` in one transaction on a connection of `db`'s pool, in plain SQL: for hot paths
 * whose few statements must commit together and fast. Rolls back on any error.
 */
export async function inSqlTransaction<T>(
  db: Database,
  work: (sql: PoolClient) => Promise<T>,
  lane: ConnectionLane = 'shared'
): Promise<T> {
  const pool = sqlPool(db, lane);
  const sql = await pool.connect();
  try {
    await sql.query('BEGIN');
    const result = await work(sql);
    await sql.query('COMMIT');
    return result;
  } catch (error) {
    await sql.query('ROLLBACK').catch(() => undefined);
    throw error;
  } finally {
    sql.release();
  }
}
