/**
 * The Temporal SDK's own metrics (workflow and activity task latency, slots, polls, failures),
 * exported by its native core through a Prometheus endpoint of its own: they never pass through
 * prom-client, so they are scraped on a second port of the worker.
 */
import type { TelemetryOptions } from '@temporalio/worker';

/** Port of the Temporal SDK's exporter in a worker, next to Escalator's own 9464. */
export const DEFAULT_TEMPORAL_METRICS_PORT = 9465;

/**
 * Telemetry options for `Runtime.install({ telemetryOptions })`, which must run before the worker's
 * first `NativeConnection` or `Worker` (the runtime is installed once per process). The exporter
 * serves `GET /metrics` on `bindAddress` (`0.0.0.0:9465`).
 *
 * Durations are in seconds, like every other Prometheus metric, and names keep the SDK's defaults
 * (`temporal_` prefix, no `_total` or unit suffix): `temporal_activity_execution_latency`,
 * `temporal_workflow_task_schedule_to_start_latency`, `temporal_workflow_completed`, …
 */
export function temporalRuntimeTelemetry(bindAddress = `0.0.0.0:${DEFAULT_TEMPORAL_METRICS_PORT}`): TelemetryOptions {
  return { metrics: { prometheus: { bindAddress, useSecondsForDurations: true } } };
}
