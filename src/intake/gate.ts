/**
 * The intake gate: whether the gateway may answer a report 2xx right now. A 2xx promises that the
 * report will reach its workflow, so reports are turned away (503) while Temporal does not answer,
 * or while the journal holds more than the dispatchers can work off soon (with Retry-After). Both
 * facts are looked up about once a second, whatever the request rate, and never in a sender's way
 * while the last answer is recent.
 */
import type { Client } from '@temporalio/client';
import type { Database } from '../db/client';
import { callTemporal, TemporalUnavailableError } from '../temporal/calls';

/** The gateway is shedding load: answered 503 with Retry-After, and nothing of the request was written. */
export class OverloadedError extends Error {
  override name = 'OverloadedError';
  constructor(
    message: string,
    readonly retryAfterSeconds: number
  ) {
    super(message);
  }
}

export interface IntakeGate {
  /** Resolves when reports may be taken; throws TemporalUnavailableError or OverloadedError otherwise. */
  assertOpen(): Promise<void>;
}

export interface IntakeGateOptions {
  db: Database;
  temporal: Client;
  /** Alerts with entries waiting in the journal beyond which new reports are refused. */
  maxBacklog: number;
  clock?: () => number;
}

/** A fact older than this is looked up again, behind the requests that use it. */
const FRESH_MS = 1_000;
/** Past this age a fact is not used at all: requests wait for a new lookup. */
const STALE_MS = 5_000;
/** A probe of Temporal that takes longer than this counts as no answer. */
const PROBE_TIMEOUT_MS = 2_000;
/** Senders are asked to come back after about the time the dispatchers need for a full backlog's share. */
const BACKLOG_RETRY_AFTER_SECONDS = 10;

/**
 * A value looked up at most once at a time: callers get the last answer at once while it is
 * younger than `STALE_MS` (a lookup older than `FRESH_MS` is started behind them), so that a slow
 * answer from a busy server never holds a sender up; only without a usable answer do they wait.
 */
function cachedLookup<T>(lookup: () => Promise<T>, clock: () => number): () => Promise<T> {
  let settled: { at: number; value: T } | undefined;
  let inFlight: Promise<T> | undefined;
  const refresh = (): Promise<T> => {
    inFlight ??= lookup()
      .then((value) => {
        settled = { at: clock(), value };
        return value;
      })
      .finally(() => (inFlight = undefined));
    return inFlight;
  };
  return () => {
    const age = settled ? clock() - settled.at : Infinity;
    if (settled && age < STALE_MS) {
      if (age >= FRESH_MS) refresh().catch(() => undefined);
      return Promise.resolve(settled.value);
    }
    return refresh();
  };
}

export function createIntakeGate({ db, temporal, maxBacklog, clock = Date.now }: IntakeGateOptions): IntakeGate {
  const temporalAnswers = cachedLookup(
    () =>
      callTemporal(temporal, 'Temporal health check', PROBE_TIMEOUT_MS, () =>
        temporal.workflowService.getSystemInfo({})
      ).then(
        () => undefined,
        (error: unknown) => error as Error
      ),
    clock
  );
  // Counted in alerts, not reports: the dispatcher's work is about one signal per alert waiting,
  // since it folds an alert's waiting repeats into one. Counted in reports, a storm of repeats of
  // one alert behind a few thousand new alerts was refused (measured: 635 of 7,655 repeats
  // answered 503) while it would have cost the dispatcher one signal a round.
  const backlog = cachedLookup(async () => {
    const rows = await db.$queryRaw<Array<{ count: bigint }>>`
        SELECT count(*) AS count FROM (
          SELECT DISTINCT workflow_id FROM intake_journal WHERE dispatched_at IS NULL LIMIT ${maxBacklog + 1}
        ) waiting`;
    return Number(rows[0]?.count ?? 0);
  }, clock);

  return {
    async assertOpen() {
      const [temporalError, waiting] = await Promise.all([temporalAnswers(), backlog()]);
      if (temporalError) {
        throw temporalError instanceof TemporalUnavailableError
          ? temporalError
          : new TemporalUnavailableError(temporalError.message, { cause: temporalError });
      }
      if (waiting > maxBacklog) {
        throw new OverloadedError(
          `reports of ${maxBacklog} alerts are already waiting to reach them, retry later`,
          BACKLOG_RETRY_AFTER_SECONDS
        );
      }
    },
  };
}
