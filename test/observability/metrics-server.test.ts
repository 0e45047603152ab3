/** The worker's own /metrics, served over plain HTTP for Prometheus to scrape. */
import { createMetrics, recordEscalation } from '../../src/observability/metrics';
import { startMetricsServer } from '../../src/observability/metrics-server';

describe('startMetricsServer', () => {
  it('serves the registry on GET /metrics until closed', async () => {
    const metrics = createMetrics();
    recordEscalation(metrics, { team: 'ops', step: 'team' });
    const server = await startMetricsServer({ registry: metrics.registry, port: 0, host: '127.0.0.1' });

    try {
      const response = await fetch(server.url);
      const text = await response.text();

      expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/metrics$/);
      expect(response.status).toBe(200);
      expect(response.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
      expect(text).toContain('escalator_escalations_total{team="ops",step="team"} 1');
      expect(text).toContain('nodejs_eventloop_lag_p99_seconds');
    } finally {
      await server.close();
    }
    await expect(fetch(server.url)).rejects.toThrow();
  });

  it('answers 404 off /metrics and 405 to anything but GET', async () => {
    const server = await startMetricsServer({ registry: createMetrics().registry, port: 0, host: '127.0.0.1' });
    try {
      expect((await fetch(server.url.replace('/metrics', '/'))).status).toBe(404);
      expect((await fetch(server.url, { method: 'POST' })).status).toBe(405);
      expect((await fetch(`${server.url}?name[]=x`)).status).toBe(200);
    } finally {
      await server.close();
    }
  });

  it('refuses to start on a port already taken, so a second worker on one host notices', async () => {
    const first = await startMetricsServer({ registry: createMetrics().registry, port: 0, host: '127.0.0.1' });
    try {
      const port = Number(new URL(first.url).port);
      await expect(startMetricsServer({ registry: createMetrics().registry, port, host: '127.0.0.1' })).rejects.toThrow(
        /EADDRINUSE/
      );
    } finally {
      await first.close();
    }
  });
});
