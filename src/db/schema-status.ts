/**
 * Whether a database holds every migration this build ships: checked by `npm run api` and
 * `npm run worker` at start (they refuse to run on an older schema) and by `/readyz`.
 *
 * They refuse rather than migrate: a migration is a deploy step, run once by one process with the
 * rights to change the schema (`npm run migrate`, compose's escalator-migrate), not by every
 * replica that scales out or restarts.
 */
import type { Database } from './client';
import { readMigrations } from './migrate';

export interface SchemaStatus {
  /** Migrations of this build that the database lacks, oldest first. */
  pending: string[];
  /** A migration that started and neither finished nor was rolled back. */
  failed?: string;
}

/** What applies the migrations, from a clone and in the container image. */
export const MIGRATE_COMMAND = '`npm run migrate` (in the image: `node dist/db/migrate-cli.js`)';

let shippedMigrations: string[] | undefined;

function shipped(): string[] {
  shippedMigrations ??= readMigrations().map((migration) => migration.name);
  return shippedMigrations;
}

/** Reads `_prisma_migrations` (absent: nothing applied) and compares it with the shipped migrations. */
export async function readSchemaStatus(db: Database, migrations: string[] = shipped()): Promise<SchemaStatus> {
  let rows: Array<{ name: string; finished: boolean; rolledBack: boolean }>;
  try {
    rows = await db.$queryRaw`
      SELECT migration_name AS name, finished_at IS NOT NULL AS finished, rolled_back_at IS NOT NULL AS "rolledBack"
      FROM "_prisma_migrations"`;
  } catch (error) {
    // Only on failure: is it the table that is missing (nothing applied yet), or the database?
    const [table] = await db.$queryRaw<Array<{ present: boolean }>>`
      SELECT to_regclass('"_prisma_migrations"') IS NOT NULL AS present`;
    if (table?.present === false) return { pending: [...migrations] };
    throw error;
  }
  const applied = new Set(rows.filter((row) => row.finished && !row.rolledBack).map((row) => row.name));
  const failed = rows.find((row) => !row.finished && !row.rolledBack)?.name;
  return { pending: migrations.filter((name) => !applied.has(name)), ...(failed ? { failed } : {}) };
}

/** One line for an operator: what is wrong with the schema and what to run; undefined when it is current. */
export function describeSchemaProblem(status: SchemaStatus): string | undefined {
  if (status.failed) {
    return `database migration ${status.failed} failed earlier: resolve it (prisma migrate resolve), then run ${MIGRATE_COMMAND}`;
  }
  if (status.pending.length === 0) return undefined;
  const count = status.pending.length === 1 ? '1 migration is' : `${status.pending.length} migrations are`;
  return `database is not migrated (${count} pending, first ${status.pending[0]}): run ${MIGRATE_COMMAND} with the same DATABASE_URL, then start again`;
}

export class SchemaNotMigratedError extends Error {
  override name = 'SchemaNotMigratedError';
}

/** Throws SchemaNotMigratedError with the operator's one line unless every shipped migration is applied. */
export async function assertSchemaMigrated(db: Database): Promise<void> {
  const problem = describeSchemaProblem(await readSchemaStatus(db));
  if (problem) throw new SchemaNotMigratedError(problem);
}
