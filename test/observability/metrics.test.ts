/** What an operator reads on /metrics after alerts come and go, and the scrape-time gauges. */
import {
  createMetrics,
  recordAcknowledgement,
  recordAlertEnded,
  recordAlertReceived,
  recordEscalation,
  recordPass,
  type Inventory,
  type Metrics,
} from '../../src/observability/metrics';

function sample(text: string, series: string): number | undefined {
  const line = text.split('\n').find((candidate) => candidate.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

async function scrape(metrics: Metrics): Promise<string> {
  return metrics.registry.metrics();
}

describe('alert metrics', () => {
  it('counts a new alert as opened and its repeats as repeats, both as received', async () => {
    const metrics = createMetrics(undefined, { defaultMetrics: false });

    recordAlertReceived(metrics, {
      source: 'cloudwatch',
      team: 'ops',
      severity: 'critical',
      status: 'firing',
      duplicate: false,
    });
    recordAlertReceived(metrics, {
      source: 'cloudwatch',
      team: 'ops',
      severity: 'critical',
      status: 'firing',
      duplicate: true,
    });
    recordAlertReceived(metrics, {
      source: 'cloudwatch',
      team: 'ops',
      severity: 'critical',
      status: 'resolved',
      duplicate: true,
    });
    const text = await scrape(metrics);

    expect(sample(text, 'escalator_alerts_received_total{source="cloudwatch"}')).toBe(3);
    expect(sample(text, 'escalator_alerts_opened_total{team="ops",severity="critical"}')).toBe(1);
    expect(sample(text, 'escalator_alert_repeats_total{team="ops"}')).toBe(1);
  });

  it('labels sources it does not know as other, so a sender cannot create series at will', async () => {
    const metrics = createMetrics(undefined, { defaultMetrics: false });

    recordAlertReceived(metrics, {
      source: 'my-cron-job-4711',
      team: 'ops',
      severity: 'info',
      status: 'firing',
      duplicate: false,
    });
    recordAlertReceived(metrics, {
      source: 'Alertmanager',
      team: 'ops',
      severity: 'info',
      status: 'firing',
      duplicate: false,
    });
    const text = await scrape(metrics);

    expect(sample(text, 'escalator_alerts_received_total{source="other"}')).toBe(1);
    expect(sample(text, 'escalator_alerts_received_total{source="alertmanager"}')).toBe(1);
    expect(text).not.toContain('my-cron-job-4711');
  });

  it('records escalation steps, passes, the acknowledgement and how long it took', async () => {
    const metrics = createMetrics(undefined, { defaultMetrics: false });
    const firstSeenAt = new Date('2030-01-01T10:00:00Z');

    recordEscalation(metrics, { team: 'payments', step: 'engineer' });
    recordPass(metrics, { team: 'payments' });
    recordEscalation(metrics, { team: 'payments', step: 'team' });
    recordAcknowledgement(metrics, { team: 'payments', firstSeenAt, at: new Date('2030-01-01T10:12:00Z') });
    const text = await scrape(metrics);

    expect(sample(text, 'escalator_escalations_total{team="payments",step="engineer"}')).toBe(1);
    expect(sample(text, 'escalator_escalations_total{team="payments",step="team"}')).toBe(1);
    expect(sample(text, 'escalator_passes_total{team="payments"}')).toBe(1);
    expect(sample(text, 'escalator_acknowledgements_total{team="payments"}')).toBe(1);
    expect(sample(text, 'escalator_time_to_acknowledge_seconds_sum{team="payments"}')).toBe(720);
    expect(sample(text, 'escalator_time_to_acknowledge_seconds_bucket{le="600",team="payments"}')).toBe(0);
    expect(sample(text, 'escalator_time_to_acknowledge_seconds_bucket{le="900",team="payments"}')).toBe(1);
  });

  it('tells alerts closed by a person from alerts resolved by their source', async () => {
    const metrics = createMetrics(undefined, { defaultMetrics: false });
    const firstSeenAt = '2030-01-01T10:00:00.000Z';

    recordAlertEnded(metrics, { team: 'ops', state: 'closed', firstSeenAt, at: '2030-01-01T11:00:00.000Z' });
    recordAlertEnded(metrics, { team: 'ops', state: 'resolved', firstSeenAt, at: '2030-01-01T10:01:30.000Z' });
    const text = await scrape(metrics);

    expect(sample(text, 'escalator_alerts_ended_total{team="ops",state="closed",by="person"}')).toBe(1);
    expect(sample(text, 'escalator_alerts_ended_total{team="ops",state="resolved",by="source"}')).toBe(1);
    expect(sample(text, 'escalator_time_to_close_seconds_sum{team="ops",state="closed"}')).toBe(3600);
    expect(sample(text, 'escalator_time_to_close_seconds_sum{team="ops",state="resolved"}')).toBe(90);
  });

  it('lets two apps in one process keep registries of their own', async () => {
    const gateway = createMetrics();
    const worker = createMetrics();

    recordPass(worker, { team: 'ops' });

    expect(sample(await scrape(worker), 'escalator_passes_total{team="ops"}')).toBe(1);
    expect(sample(await scrape(gateway), 'escalator_passes_total{team="ops"}')).toBeUndefined();
  });
});

describe('inventory gauges', () => {
  function changingInventory() {
    const counts = { teams: 1, endpoints: 2, live: [{ team: 'ops', state: 'open' as const, count: 3 }] };
    const inventory: Inventory = {
      countTeams: () => Promise.resolve(counts.teams),
      countEndpoints: () => Promise.resolve(counts.endpoints),
      countLiveAlerts: () => Promise.resolve(counts.live),
    };
    return { counts, inventory };
  }

  it('reads teams, endpoints and live alerts at every scrape', async () => {
    const { counts, inventory } = changingInventory();
    const metrics = createMetrics(undefined, { inventory, defaultMetrics: false });

    const before = await scrape(metrics);
    counts.teams = 4;
    counts.endpoints = 7;
    counts.live = [{ team: 'payments', state: 'open', count: 1 }];
    const after = await scrape(metrics);

    expect(sample(before, 'escalator_teams_configured')).toBe(1);
    expect(sample(before, 'escalator_endpoints_configured')).toBe(2);
    expect(sample(before, 'escalator_live_alerts{team="ops",state="open"}')).toBe(3);
    expect(sample(after, 'escalator_teams_configured')).toBe(4);
    expect(sample(after, 'escalator_endpoints_configured')).toBe(7);
    expect(sample(after, 'escalator_live_alerts{team="payments",state="open"}')).toBe(1);
    expect(sample(after, 'escalator_live_alerts{team="ops",state="open"}')).toBeUndefined();
  });

  it('still answers a scrape when PostgreSQL fails or hangs, keeping the last counts', async () => {
    const { inventory } = changingInventory();
    const metrics = createMetrics(undefined, { inventory, inventoryTimeoutMs: 100, defaultMetrics: false });
    await scrape(metrics);
    inventory.countTeams = () => Promise.reject(new Error('connection refused'));
    inventory.countEndpoints = () => new Promise<number>(() => undefined);

    const started = Date.now();
    const text = await scrape(metrics);

    expect(Date.now() - started).toBeLessThan(2_000);
    expect(sample(text, 'escalator_teams_configured')).toBe(1);
    expect(sample(text, 'escalator_endpoints_configured')).toBe(2);
    expect(sample(text, 'escalator_inventory_errors_total{gauge="teams"}')).toBe(1);
    expect(sample(text, 'escalator_inventory_errors_total{gauge="endpoints"}')).toBe(1);
  });

  it('adds no inventory gauges to a process given no inventory', async () => {
    const metrics = createMetrics(undefined, { defaultMetrics: false });

    expect(await scrape(metrics)).not.toContain('escalator_teams_configured');
  });
});
