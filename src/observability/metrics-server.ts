/**
 * A bare `GET /metrics` server for processes without an Express app: the worker serves its
 * registry here (METRICS_PORT, 9464 by default) next to the Temporal SDK's own exporter (9465).
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';

/** Port of the worker's Escalator metrics (Prometheus' registry of default ports has 9464 free for this). */
export const DEFAULT_METRICS_PORT = 9464;

export interface MetricsServerOptions {
  registry: Registry;
  /** 0 picks a free port (tests); `url` tells which. */
  port?: number;
  /** All interfaces by default, so that Prometheus in another container can scrape it. */
  host?: string;
}

export interface MetricsServer {
  /** Where the metrics are, e.g. `http://127.0.0.1:9464/metrics`. */
  url: string;
  /** Stops accepting scrapes and closes idle connections. */
  close(): Promise<void>;
}

/** Serves `registry` on `GET /metrics` over plain node:http; resolves once it listens. */
export async function startMetricsServer({
  registry,
  port = DEFAULT_METRICS_PORT,
  host = '0.0.0.0',
}: MetricsServerOptions): Promise<MetricsServer> {
  const server = http.createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (path !== '/metrics') {
      res.writeHead(404, { 'Content-Type': 'text/plain' }).end('Not Found\n');
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { Allow: 'GET, HEAD', 'Content-Type': 'text/plain' }).end('Method Not Allowed\n');
      return;
    }
    registry.metrics().then(
      (body) =>
        res.writeHead(200, { 'Content-Type': registry.contentType }).end(req.method === 'HEAD' ? undefined : body),
      (error: unknown) => res.writeHead(500, { 'Content-Type': 'text/plain' }).end(`${String(error)}\n`)
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  const reachableHost = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host;
  const urlHost = reachableHost.includes(':') ? `[${reachableHost}]` : reachableHost;
  return {
    url: `http://${urlHost}:${address.port}/metrics`,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeIdleConnections();
      }),
  };
}
