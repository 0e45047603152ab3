/** Throwaway databases on the test run's PostgreSQL server (the one DATABASE_URL points at). */
import { randomBytes } from 'node:crypto';
import { Client } from 'pg';

export interface FreshDatabase {
  url: string;
  drop(): Promise<void>;
}

/** Runs `sql` on the server's maintenance database, from which databases are created and dropped. */
async function onServer(sql: string): Promise<void> {
  const url = new URL(process.env.DATABASE_URL!);
  url.pathname = '/postgres';
  const client = new Client({ connectionString: url.toString() });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

/** Creates an empty database with a random name; `drop` removes it even while connections remain. */
export async function createFreshDatabase(prefix: string): Promise<FreshDatabase> {
  const name = `${prefix}_${randomBytes(6).toString('hex')}`;
  await onServer(`CREATE DATABASE "${name}"`);
  const url = new URL(process.env.DATABASE_URL!);
  url.pathname = `/${name}`;
  return { url: url.toString(), drop: () => dropDatabase(name) };
}

/** How long a drop is tried again while a superuser's backend is in the database. */
const DROP_RETRY_MS = 10_000;

/**
 * Drops a database, terminating the test's own connections to it. The test role may not terminate
 * a superuser's backend (42501, "permission denied to terminate process"): one is there only
 * briefly (seen once on a fresh clone's `npm test`, most likely autovacuum visiting the new
 * database), so the drop is tried again until it has gone.
 */
async function dropDatabase(name: string): Promise<void> {
  const deadline = Date.now() + DROP_RETRY_MS;
  for (;;) {
    try {
      await onServer(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
      return;
    } catch (error) {
      if ((error as { code?: string }).code !== '42501' || Date.now() > deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  }
}
