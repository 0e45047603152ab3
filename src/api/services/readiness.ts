/** Readiness: whether this gateway can take alerts now, i.e. whether Temporal and PostgreSQL answer. */
import type { Client } from '@temporalio/client';
import type { Database } from '../../db/client';
import { describeSchemaProblem, readSchemaStatus } from '../../db/schema-status';
import { callTemporal } from '../../temporal/calls';

/** A load balancer probes often; a dependency that takes longer than this is as good as down. */
export const READINESS_CHECK_TIMEOUT_MS = 2_000;

/** `notMigrated`: PostgreSQL answers, but lacks migrations this build needs. */
export type DependencyStatus = { ok: true } | { ok: false; error: string; notMigrated?: true };

export interface ReadinessReport {
  ready: boolean;
  temporal: DependencyStatus;
  database: DependencyStatus;
}

class SchemaProblem extends Error {}

async function probe(check: () => Promise<unknown>, timeoutMs: number): Promise<DependencyStatus> {
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
  });
  try {
    await Promise.race([check(), timedOut]);
    return { ok: true };
  } catch (error) {
    return {
      ok: false,
      error: (error as Error).message,
      ...(error instanceof SchemaProblem ? { notMigrated: true } : {}),
    };
  } finally {
    clearTimeout(timer);
  }
}

/** Asks both dependencies at once, each under its own time limit. */
export async function checkReadiness(
  { db, temporal }: { db: Database; temporal: Client },
  timeoutMs = READINESS_CHECK_TIMEOUT_MS
): Promise<ReadinessReport> {
  const [temporalStatus, databaseStatus] = await Promise.all([
    probe(
      () =>
        callTemporal(temporal, 'getSystemInfo', timeoutMs, () => temporal.connection.workflowService.getSystemInfo({})),
      timeoutMs
    ),
    probe(async () => {
      // PostgreSQL answering is not enough: a schema that lacks this build's migrations fails every intake.
      const problem = describeSchemaProblem(await readSchemaStatus(db));
      if (problem) throw new SchemaProblem(problem);
    }, timeoutMs),
  ]);
  return { ready: temporalStatus.ok && databaseStatus.ok, temporal: temporalStatus, database: databaseStatus };
}
