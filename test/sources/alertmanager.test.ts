import { normaliseAlertmanagerWebhook } from '../../src/sources/alertmanager';
import { InvalidAlertError } from '../../src/sources/types';
import { loadFixture } from '../fixtures';

interface Webhook {
  alerts: Record<string, unknown>[];
  [key: string]: unknown;
}

const webhook = (path: string) => loadFixture<Webhook>(path);

describe('Alertmanager webhook', () => {
  it('gives one alert per entry, each with its own fingerprint and status', () => {
    const alerts = normaliseAlertmanagerWebhook(webhook('alertmanager/firing-and-resolved.json'));

    expect(alerts.map(({ status, fingerprint }) => ({ status, fingerprint }))).toEqual([
      { status: 'firing', fingerprint: 'c2a7d1f4b6e8a0b3' },
      { status: 'resolved', fingerprint: '7e0f1a2b3c4d5e6f' },
    ]);
  });

  it('titles an alert by its summary, or by its alertname when it has none', () => {
    const [highErrorRate, diskFilling] = normaliseAlertmanagerWebhook(webhook('alertmanager/firing-and-resolved.json'));

    expect(highErrorRate!.content.title).toBe('API error rate above 5% on api-1');
    expect(diskFilling!.content.title).toBe('DiskWillFillIn4Hours');
  });

  it('takes text from the description, severity from the severity label, and links to Prometheus', () => {
    const [highErrorRate] = normaliseAlertmanagerWebhook(webhook('alertmanager/firing-and-resolved.json'));

    expect(highErrorRate!.content).toMatchObject({
      text: '5.2% of requests to api-1 failed over the last 5 minutes.',
      severity: 'critical',
      source: 'alertmanager',
      link: 'http://prometheus.example.com:9090/graph?g0.expr=job%3Aerror_rate%3Aratio5m+%3E+0.05&g0.tab=1',
    });
  });

  it('shows labels and other annotations as fields, without repeating what the message already says', () => {
    const [highErrorRate, diskFilling] = normaliseAlertmanagerWebhook(webhook('alertmanager/firing-and-resolved.json'));

    expect(highErrorRate!.content.fields).toEqual([
      { label: 'alertname', value: 'HighErrorRate' },
      { label: 'instance', value: 'api-1:9100' },
      { label: 'job', value: 'api' },
      { label: 'team', value: 'payments' },
      { label: 'runbook_url', value: 'https://wiki.example.com/runbooks/high-error-rate' },
    ]);
    expect(diskFilling!.content.fields?.map((entry) => entry.label)).toEqual(['device', 'instance', 'job', 'team']);
  });

  it('keeps an alert whose severity label is not ours, as a warning, and shows the label as it came', () => {
    const body = webhook('alertmanager/firing-and-resolved.json');
    (body.alerts[0]!.labels as Record<string, string>).severity = 'page';
    (body.alerts[1]!.labels as Record<string, string>).severity = 'warning';

    const [paged, warned] = normaliseAlertmanagerWebhook(body);

    expect(paged!.content.severity).toBe('warning');
    expect(paged!.content.fields).toContainEqual({ label: 'severity', value: 'page' });
    expect(warned!.content.fields?.map((entry) => entry.label)).not.toContain('severity');
  });

  it('derives a stable fingerprint from the labels when an old Alertmanager sends none', () => {
    const first = webhook('alertmanager/firing-and-resolved.json');
    delete first.alerts[0]!.fingerprint;
    const reordered = webhook('alertmanager/firing-and-resolved.json');
    delete reordered.alerts[0]!.fingerprint;
    reordered.alerts[0]!.labels = Object.fromEntries(
      Object.entries(reordered.alerts[0]!.labels as Record<string, string>).reverse()
    );

    const [fromFirst] = normaliseAlertmanagerWebhook(first);
    const [fromReordered] = normaliseAlertmanagerWebhook(reordered);

    expect(fromFirst!.fingerprint).toMatch(/^[0-9a-f]{16}$/);
    expect(fromReordered!.fingerprint).toBe(fromFirst!.fingerprint);
  });

  it('drops a generator link that is not http(s)', () => {
    const payload = webhook('alertmanager/firing-and-resolved.json');
    payload.alerts[0]!.generatorURL = 'javascript:alert(1)';

    expect(normaliseAlertmanagerWebhook(payload)[0]!.content.link).toBeUndefined();
  });

  it('refuses an alert whose status is neither firing nor resolved, naming the entry', () => {
    const payload = webhook('alertmanager/firing-and-resolved.json');
    payload.alerts[1]!.status = 'pending';

    expect(() => normaliseAlertmanagerWebhook(payload)).toThrow(InvalidAlertError);
    expect(() => normaliseAlertmanagerWebhook(payload)).toThrow(/alerts\.1\.status/);
  });

  it('refuses a group without alerts', () => {
    const payload = { ...webhook('alertmanager/firing-and-resolved.json'), alerts: [] };

    expect(() => normaliseAlertmanagerWebhook(payload)).toThrow(
      'Alertmanager webhook: alerts: must hold at least one alert'
    );
  });
});

describe('Grafana webhook', () => {
  it('gives one alert per entry, marked as from Grafana', () => {
    const alerts = normaliseAlertmanagerWebhook(webhook('grafana/firing-and-resolved.json'));

    expect(
      alerts.map(({ status, fingerprint, content }) => [status, fingerprint, content.title, content.source])
    ).toEqual([
      ['firing', '57c6d9296de2ad39', 'CPU above 90% on web-3', 'grafana'],
      ['resolved', '0d61e0a8d4cf4f4c', 'Memory pressure', 'grafana'],
    ]);
  });

  it('links to the panel, or to the alert rule when the alert has no dashboard', () => {
    const [highCpu, memory] = normaliseAlertmanagerWebhook(webhook('grafana/firing-and-resolved.json'));

    expect(highCpu!.content.link).toBe('https://grafana.example.com/d/node-exporter?orgId=1&viewPanel=3');
    expect(memory!.content.link).toBe('https://grafana.example.com/alerting/grafana/a1b2c3d4e5f6/view?orgId=1');
  });

  it('shows the values that fired and a whole link to silence the alert', () => {
    const [highCpu] = normaliseAlertmanagerWebhook(webhook('grafana/firing-and-resolved.json'));

    expect(highCpu!.content.fields).toEqual(
      expect.arrayContaining([
        { label: 'Values', value: 'A=93.4, B=1' },
        {
          label: 'Silence',
          value:
            'https://grafana.example.com/alerting/silence/new?alertmanager=grafana&matcher=alertname%3DHigh+CPU&matcher=grafana_folder%3DInfrastructure&matcher=host%3Dweb-3&orgId=1',
        },
      ])
    );
    expect(highCpu!.content.severity).toBe('error');
  });
});
