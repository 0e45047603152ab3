/** Gateway latency is labelled by route pattern and status; tokens in URLs never reach /metrics. */
import { randomUUID } from 'node:crypto';
import express from 'express';
import request from 'supertest';
import { httpMetricsMiddleware, metricsHandler } from '../../src/observability/http-metrics';
import { createMetrics } from '../../src/observability/metrics';

function gatewayLikeApp() {
  const metrics = createMetrics();
  const app = express();
  app.use(httpMetricsMiddleware(metrics));
  app.get('/metrics', metricsHandler(metrics.registry));
  app.post('/webhooks/:token', (_req, res) => {
    res.status(202).json({ alertId: randomUUID(), duplicate: false });
  });
  // A router mounted under a token: Express knows its mount point only as the raw URL.
  const sns = express.Router();
  sns.post('/', (_req, res) => {
    res.status(200).end();
  });
  app.use('/sns/:token', sns);
  return app;
}

describe('httpMetricsMiddleware', () => {
  it('records a webhook by its route pattern and status, never by its token', async () => {
    const app = gatewayLikeApp();
    const token = `tok_${randomUUID()}`;

    await request(app).post(`/webhooks/${token}`).send({ title: 'disk full' }).expect(202);
    const scrape = await request(app).get('/metrics').expect(200);

    expect(scrape.text).toContain(
      'escalator_http_request_duration_seconds_count{method="POST",route="/webhooks/:token",status="202"} 1'
    );
    expect(scrape.text).not.toContain(token);
  });

  it('labels requests no route answered as unmatched, keeping their path out', async () => {
    const app = gatewayLikeApp();
    const secret = `secret_${randomUUID()}`;

    await request(app).get(`/no-such-route/${secret}`).expect(404);
    const scrape = await request(app).get('/metrics').expect(200);

    expect(scrape.text).toContain(
      'escalator_http_request_duration_seconds_count{method="GET",route="unmatched",status="404"} 1'
    );
    expect(scrape.text).not.toContain(secret);
  });

  it('leaves the token of a mounted router out of the route label', async () => {
    const app = gatewayLikeApp();
    const token = `tok_${randomUUID()}`;

    await request(app).post(`/sns/${token}`).send('{}').expect(200);
    const scrape = await request(app).get('/metrics').expect(200);

    expect(scrape.text).toContain(
      'escalator_http_request_duration_seconds_count{method="POST",route="/",status="200"} 1'
    );
    expect(scrape.text).not.toContain(token);
  });

  it('serves /metrics in the Prometheus text format with its content type', async () => {
    const app = gatewayLikeApp();

    const scrape = await request(app).get('/metrics').expect(200);

    expect(scrape.headers['content-type']).toMatch(/^text\/plain; version=0\.0\.4/);
    expect(scrape.text).toContain('# TYPE escalator_alerts_opened_total counter');
    expect(scrape.text).toContain('process_cpu_user_seconds_total');
  });
});
