/**
 * References measured on the same servers in the same minute, for the figures that compare with
 * them: raw workflow starts on the product's Temporal dev server and bare inserts into its
 * PostgreSQL, 16 at a time.
 */
import { randomUUID } from 'node:crypto';
import type { Client } from '@temporalio/client';
import { Pool } from 'pg';
import { ALERT_WORKFLOW_TYPE } from '../../src/workflows/definitions';
import { CONCURRENCY, record, SCALE, type BenchContext } from '../harness';

async function rawStartRate(temporal: Client, seconds: number): Promise<number> {
  const taskQueue = `bench-raw-${randomUUID()}`;
  const deadline = Date.now() + seconds * 1000;
  let started = 0;
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (Date.now() < deadline) {
        await temporal.workflow.start(ALERT_WORKFLOW_TYPE, { taskQueue, workflowId: `raw/${randomUUID()}`, args: [] });
        started++;
      }
    })
  );
  return Math.round(started / seconds);
}

async function bareInsertRate(databaseUrl: string, seconds: number): Promise<number> {
  const pool = new Pool({ connectionString: databaseUrl, max: CONCURRENCY });
  await pool.query('CREATE TABLE IF NOT EXISTS bench_inserts (id uuid PRIMARY KEY, body jsonb NOT NULL)');
  const deadline = Date.now() + seconds * 1000;
  let inserted = 0;
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (Date.now() < deadline) {
        await pool.query('INSERT INTO bench_inserts VALUES ($1, $2)', [randomUUID(), { title: 'x' }]);
        inserted++;
      }
    })
  );
  await pool.query('DROP TABLE bench_inserts');
  await pool.end();
  return Math.round(inserted / seconds);
}

/** Records both references and returns them. */
export async function measureReferences({ temporal, databaseUrl }: BenchContext) {
  const rawStarts = await rawStartRate(temporal, SCALE.seconds);
  const bareInserts = await bareInsertRate(databaseUrl, SCALE.seconds);
  record({ name: 'reference: raw workflow.start, 16 concurrent', value: rawStarts, unit: '/s' });
  record({ name: 'reference: bare PostgreSQL insert, 16 concurrent', value: bareInserts, unit: '/s' });
  return { rawStarts, bareInserts };
}
