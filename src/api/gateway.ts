/** Listening and stopping: the gateway as a running HTTP server, for `npm run api` and `npm start`. */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { openInteractiveConnections } from '../db/client';
import { startDispatcher } from '../intake/dispatcher';
import { startMetricsServer, type MetricsServer } from '../observability/metrics-server';
import { settleTemporalCalls } from '../temporal/calls';
import { createHeartbeatSweeper, type HeartbeatSweeper } from '../heartbeats/sweeper';
import { createApp, createGatewayIntake, type GatewayDeps } from './app';

export interface RunningGateway {
  /** `http://<host>:<port>`, with the port actually bound (useful with port 0). */
  url: string;
  /** Where the gateway's metrics are served apart from the public port (GATEWAY_METRICS_PORT), if they are. */
  metricsUrl?: string;
  server: Server;
  /** Reports missed heartbeat deadlines (docs/heartbeats.md); tests sweep on demand. */
  heartbeats: Pick<HeartbeatSweeper, 'sweepOnce'>;
  /**
   * Stops accepting connections, waits for requests in flight, stops the intake dispatcher and
   * waits for Temporal calls still retrying; the clients stay open for the caller to close.
   */
  close(): Promise<void>;
}

export interface GatewayListenOptions {
  port: number;
  /** Defaults to every interface, as a container needs. */
  host?: string;
  /** Requests still running after this long are cut off at shutdown. */
  shutdownGraceMs?: number;
  /** How often the heartbeat sweeper looks for missed deadlines (250 ms by default). */
  heartbeatSweepIntervalMs?: number;
}

/**
 * Builds the app over `deps`, listens, and starts the intake dispatcher that hands what the app
 * took to Temporal, and the heartbeat sweeper. The caller owns the Temporal and database clients.
 */
export async function startGateway(deps: GatewayDeps, options: GatewayListenOptions): Promise<RunningGateway> {
  const intake = createGatewayIntake(deps);
  const sweeper = createHeartbeatSweeper({
    db: deps.db,
    intake,
    log: deps.log,
    clock: deps.clock,
    intervalMs: options.heartbeatSweepIntervalMs,
  });
  const app = createApp(deps, { intake, onHeartbeatResolvePending: () => sweeper.wake() });
  // Its own port, as the worker's: the public port is for senders and Slack, not for inventories.
  const { gatewayMetricsPort } = deps.config;
  let metricsServer: MetricsServer | undefined;
  if (deps.metrics && gatewayMetricsPort !== undefined) {
    metricsServer = await startMetricsServer({ registry: deps.metrics.registry, port: gatewayMetricsPort });
  }
  const server = await new Promise<Server>((resolve, reject) => {
    const listening = app.listen(options.port, options.host ?? '0.0.0.0', (error?: Error) =>
      error ? reject(error) : resolve(listening)
    );
  }).catch(async (error: unknown) => {
    await metricsServer?.close();
    throw error;
  });
  // Behind the app's answers: takes what the intake wrote to its workflows.
  const dispatcher = startDispatcher(deps);
  sweeper.start();
  // Not awaited: PostgreSQL out of reach now must not stop the gateway from answering (503s) meanwhile.
  openInteractiveConnections(deps.db).catch(() => undefined);
  const { port } = server.address() as AddressInfo;
  const host = options.host && options.host !== '0.0.0.0' && options.host !== '::' ? options.host : 'localhost';
  const shutdownGraceMs = options.shutdownGraceMs ?? 10_000;

  let closing: Promise<void> | undefined;
  return {
    url: `http://${host}:${port}`,
    metricsUrl: metricsServer?.url,
    server,
    heartbeats: sweeper,
    close() {
      closing ??= new Promise<void>((resolve, reject) => {
        const cutOff = setTimeout(() => server.closeAllConnections(), shutdownGraceMs);
        cutOff.unref();
        server.close((error) => {
          clearTimeout(cutOff);
          if (error) reject(error);
          else resolve();
        });
        // Keep-alive connections with no request in flight would otherwise hold close() open.
        server.closeIdleConnections();
      })
        // Before the dispatcher: what the sweeper reports is still handed to Temporal.
        .then(() => sweeper.close())
        .then(() => dispatcher.close())
        .then(() => metricsServer?.close())
        .then(() => settleTemporalCalls(deps.temporal));
      return closing;
    },
  };
}
