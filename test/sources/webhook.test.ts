import { normaliseAlertmanagerWebhook } from '../../src/sources/alertmanager';
import { normaliseCloudWatchAlarm } from '../../src/sources/cloudwatch';
import { normaliseEventBridgeEvent } from '../../src/sources/eventbridge';
import { normaliseGenericRequest } from '../../src/sources/generic';
import { normaliseWebhookRequest } from '../../src/sources/webhook';
import { loadFixture } from '../fixtures';
import { snsFixture } from '../helpers/sns';

const postJson = (body: unknown, alertKey?: string) =>
  normaliseWebhookRequest({ contentType: 'application/json', body, alertKey });

describe('the webhook endpoint recognises its sender', () => {
  it('reads an Alertmanager group as one alert per entry', () => {
    const payload = loadFixture('alertmanager/firing-and-resolved.json');

    expect(postJson(payload)).toEqual(normaliseAlertmanagerWebhook(payload));
    expect(postJson(payload)).toHaveLength(2);
  });

  it('reads a Grafana group, sent as raw JSON text', () => {
    const raw = JSON.stringify(loadFixture('grafana/firing-and-resolved.json'));

    const alerts = normaliseWebhookRequest({ contentType: 'application/json; charset=utf-8', body: raw });

    expect(alerts.map((alert) => alert.content.source)).toEqual(['grafana', 'grafana']);
  });

  it('reads an EventBridge event from an API destination', () => {
    const event = loadFixture('eventbridge/guardduty-finding.json');

    expect(postJson(event)).toEqual([normaliseEventBridgeEvent(event)]);
  });

  it('reads a CloudWatch alarm forwarded as JSON, with the INSUFFICIENT_DATA policy', () => {
    const alarm = loadFixture('cloudwatch/alarm-insufficient-data-metric-math.json');

    expect(postJson(alarm)).toEqual([normaliseCloudWatchAlarm(alarm)]);
    expect(
      normaliseWebhookRequest({ contentType: 'application/json', body: alarm }, { insufficientData: 'firing' })[0]!
        .ignoredBecause
    ).toBeUndefined();
  });

  it('falls back to the generic alert, with X-Alert-Key', () => {
    const request = { contentType: 'text/plain', body: 'Disk full on db-1', alertKey: 'disk-db-1' };

    expect(normaliseWebhookRequest(request)).toEqual([normaliseGenericRequest(request)]);
    expect(normaliseWebhookRequest(request)[0]!.fingerprint).toBe('disk-db-1');
  });

  it('does not let X-Alert-Key merge the alerts of an Alertmanager group', () => {
    const alerts = postJson(loadFixture('alertmanager/firing-and-resolved.json'), 'one-key');

    expect(alerts.map((alert) => alert.fingerprint)).toEqual(['c2a7d1f4b6e8a0b3', '7e0f1a2b3c4d5e6f']);
  });

  it('points an SNS message sent to the webhook URL at the SNS URL instead', () => {
    const envelope = snsFixture('notification-cloudwatch-alarm');

    expect(() =>
      normaliseWebhookRequest({ contentType: 'text/plain; charset=UTF-8', body: JSON.stringify(envelope) })
    ).toThrow(/^this is an AWS SNS message: subscribe the SNS topic to the endpoint's SNS URL \(\/sns\/<token>/);
  });

  it('says the same of an unsigned SNS envelope, instead of asking for a title', () => {
    const unsigned: Record<string, unknown> = { ...snsFixture('notification-cloudwatch-alarm') };
    delete unsigned.Signature;
    delete unsigned.SigningCertURL;

    expect(() => normaliseWebhookRequest({ contentType: 'application/json', body: JSON.stringify(unsigned) })).toThrow(
      /this is an AWS SNS message/
    );
  });
});
