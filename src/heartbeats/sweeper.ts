/**
 * The heartbeat sweeper: one per gateway process, every quarter second, it takes the monitors past
 * their deadline and those with a resolution to report, and reports them through the alert intake
 * as any source's alerts are (docs/heartbeats.md). Each monitor is reported in a transaction of its
 * own, under its row lock, taken with SKIP LOCKED: several gateways share the work, exactly one reports each deadline, and
 * a delete or a change that holds the lock first is never raced by an alert. The mark that a
 * report was made commits in the same transaction as the lock, after the intake took the report;
 * a process killed in between leaves the monitor due, and the next sweep reports it again with
 * the same firing key, which the intake counts as a re-send.
 */
import { inSqlTransaction, type Database } from '../db/client';
import type { AlertIntake } from '../api/services/alert-intake';
import type { Logger } from '../logger';
import { heartbeatResolution, missedHeartbeatReport } from './monitor-alert';
import { lockMonitorToReport, markResolved, markUnhealthy, monitorsToReport, type MonitorWithTeam } from './store';

/** How often each process looks for missed deadlines: an alert opens at most this late, plus the intake's time. */
export const SWEEP_INTERVAL_MS = 250;
/** Monitors taken per sweep; a full batch is followed by another sweep at once. */
const SWEEP_BATCH = 200;
/** Reports made at once: each is a short transaction of the intake's on the shared pool. */
const REPORT_CONCURRENCY = 4;
/** After a sweep failed (PostgreSQL or Temporal out of reach), wait this long before the next. */
const RETRY_AFTER_FAILURE_MS = 1_000;

export interface HeartbeatSweeperDeps {
  db: Database;
  intake: Pick<AlertIntake, 'receiveAlert'>;
  log: Logger;
  /** Milliseconds since the epoch; the pings are timed by the same clock. */
  clock?: () => number;
  intervalMs?: number;
}

export interface HeartbeatSweeper {
  /** Sweeps now instead of at the next tick (a ping ended a silence: report the resolution at once). */
  wake(): void;
  /** One sweep, now, after the loop's sweep in progress; resolves with the number of reports made (tests). */
  sweepOnce(): Promise<number>;
  /** Stops the loop and waits for a sweep in progress. */
  close(): Promise<void>;
}

/** What a locked monitor has to report at `now`, read from the locked version of its row. */
function reportsOf(monitor: MonitorWithTeam, now: number): { resolve: boolean; miss: boolean } {
  const miss =
    monitor.state === 'healthy' &&
    monitor.pausedAt === null &&
    monitor.endpoint.team.pausedAt === null &&
    monitor.dueAt !== null &&
    monitor.lastPingAt !== null &&
    monitor.dueAt.getTime() <= now;
  return { resolve: monitor.resolvePending, miss };
}

/** Builds the sweeper; `start()` runs its loop until `close()`. */
export function createHeartbeatSweeper({
  db,
  intake,
  log,
  clock = Date.now,
  intervalMs = SWEEP_INTERVAL_MS,
}: HeartbeatSweeperDeps): HeartbeatSweeper & { start(): void } {
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<unknown> | undefined;
  let stopped = true;
  let wakeRequested = false;
  let failing = false;

  /** Reports one monitor's pending resolution, then its missed deadline; says which were taken. */
  async function report(monitor: MonitorWithTeam, now: number) {
    const { resolve, miss } = reportsOf(monitor, now);
    if (resolve) await intake.receiveAlert(monitor.endpoint, heartbeatResolution(monitor));
    if (miss) {
      await intake.receiveAlert(
        monitor.endpoint,
        missedHeartbeatReport({
          ...monitor,
          lastPingAt: monitor.lastPingAt as Date,
          missedDeadline: monitor.dueAt as Date,
        })
      );
      log.info({ monitorId: monitor.id, monitor: monitor.name, team: monitor.endpoint.team.name }, 'heartbeat missed');
    }
    return { resolve, miss };
  }

  /**
   * Takes one monitor in a transaction of its own, so that its lock is held only while its own
   * reports are made: a ping to it waits for that, and no ping waits for a whole sweep.
   */
  async function sweepMonitor(id: string, now: number): Promise<number> {
    return inSqlTransaction(db, async (sql) => {
      const monitor = await lockMonitorToReport(sql, id);
      if (!monitor) return 0;
      const made = await report(monitor, now);
      if (made.resolve) await markResolved(sql, [id]);
      if (made.miss) await markUnhealthy(sql, [id]);
      return Number(made.resolve) + Number(made.miss);
    });
  }

  async function sweepOnce(): Promise<number> {
    const now = clock();
    const ids = await monitorsToReport(db, new Date(now), SWEEP_BATCH);
    let made = 0;
    let firstError: Error | undefined;
    let next = 0;
    await Promise.all(
      Array.from({ length: Math.min(REPORT_CONCURRENCY, ids.length) }, async () => {
        for (let id = ids[next++]; id; id = ids[next++]) {
          try {
            made += await sweepMonitor(id, now);
          } catch (error) {
            // Left as it is: due again at the next sweep.
            firstError ??= error instanceof Error ? error : new Error(String(error));
          }
        }
      })
    );
    if (firstError !== undefined && made === 0) throw firstError;
    if (firstError !== undefined) log.warn({ err: firstError }, 'some heartbeat reports were not taken; retrying');
    return ids.length >= SWEEP_BATCH ? Infinity : made;
  }

  function schedule(delayMs: number): void {
    if (stopped) return;
    timer = setTimeout(tick, delayMs);
  }

  function tick(): void {
    timer = undefined;
    wakeRequested = false;
    const startedAt = Date.now();
    running = sweepOnce().then(
      (made) => {
        if (failing) log.info('heartbeat sweeps work again');
        failing = false;
        // A full batch: more are waiting.
        schedule(made === Infinity || wakeRequested ? 0 : Math.max(0, intervalMs - (Date.now() - startedAt)));
      },
      (error: unknown) => {
        if (!failing) log.warn({ err: error }, 'heartbeat sweep failed; retrying');
        failing = true;
        schedule(RETRY_AFTER_FAILURE_MS);
      }
    );
  }

  return {
    start() {
      if (!stopped) return;
      stopped = false;
      schedule(0);
    },
    wake() {
      if (stopped) return;
      if (timer) {
        clearTimeout(timer);
        schedule(0);
      } else {
        wakeRequested = true;
      }
    },
    async sweepOnce() {
      // After the loop's sweep in progress, which holds the locks this one would skip.
      await running?.catch(() => undefined);
      const made = await sweepOnce();
      return made === Infinity ? SWEEP_BATCH : made;
    },
    async close() {
      stopped = true;
      if (timer) clearTimeout(timer);
      timer = undefined;
      await running?.catch(() => undefined);
    },
  };
}
