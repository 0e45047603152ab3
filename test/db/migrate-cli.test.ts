import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { Client } from 'pg';
import { readMigrations } from '../../src/db/migrate';
import { createFreshDatabase, type FreshDatabase } from './fresh-database';

const run = promisify(execFile);
const ROOT = path.resolve(__dirname, '../..');
const TSX = path.join(ROOT, 'node_modules', '.bin', 'tsx');
const CLI = path.join(ROOT, 'src', 'db', 'migrate-cli.ts');

let fresh: FreshDatabase;

beforeAll(async () => {
  fresh = await createFreshDatabase('escalator_migrate_cli');
});

afterAll(async () => {
  await fresh?.drop();
});

test('the migrate command migrates an empty database, then reports it up to date', async () => {
  const env = { ...process.env, DATABASE_URL: fresh.url };
  const names = readMigrations().map((migration) => migration.name);

  const first = await run(TSX, [CLI], { cwd: ROOT, env });
  const second = await run(TSX, [CLI], { cwd: ROOT, env });

  for (const name of names) expect(first.stdout).toContain(`applied migration ${name}`);
  expect(second.stdout).toBe(`database is up to date (${names.length} migrations applied earlier)\n`);
  const client = new Client({ connectionString: fresh.url });
  await client.connect();
  try {
    const { rows } = await client.query<{ count: string }>('SELECT count(*) FROM teams');
    expect(rows[0]!.count).toBe('0');
  } finally {
    await client.end();
  }
});

test('the migrate command fails with a clear message when DATABASE_URL is unset', async () => {
  const env = { ...process.env, DATABASE_URL: '' };

  const failure = run(TSX, [CLI], { cwd: ROOT, env });

  await expect(failure).rejects.toMatchObject({ code: 1, stderr: expect.stringContaining('DATABASE_URL is not set') });
});

test('npm run migrate, started three times at once on an empty database, applies each migration exactly once', async () => {
  const other = await createFreshDatabase('escalator_migrate_race');
  try {
    const env = { ...process.env, DATABASE_URL: other.url };
    const names = readMigrations().map((migration) => migration.name);

    const runs = await Promise.all([1, 2, 3].map(() => run('npm', ['run', '--silent', 'migrate'], { cwd: ROOT, env })));

    // Whoever takes the advisory lock first applies them; the others wait for it, then find nothing to do.
    const appliedBy = runs.filter((result) => result.stdout.includes('applied migration '));
    expect(appliedBy).toHaveLength(1);
    expect(runs.filter((result) => result.stdout.startsWith('database is up to date'))).toHaveLength(2);
    const client = new Client({ connectionString: other.url });
    await client.connect();
    try {
      const { rows } = await client.query<{ migration_name: string }>(
        'SELECT migration_name FROM "_prisma_migrations" WHERE finished_at IS NOT NULL ORDER BY migration_name'
      );
      expect(rows.map((row) => row.migration_name)).toEqual(names);
    } finally {
      await client.end();
    }
  } finally {
    await other.drop();
  }
}, 60_000);
