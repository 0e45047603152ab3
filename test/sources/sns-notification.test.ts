import { parseSnsEnvelope, type SnsNotification } from '../../src/sns/message';
import { createSnsVerifier } from '../../src/sns/verify';
import { normaliseCloudWatchAlarm } from '../../src/sources/cloudwatch';
import { normaliseSnsNotification } from '../../src/sources/sns-notification';
import { InvalidAlertError } from '../../src/sources/types';
import { loadFixture } from '../fixtures';
import { recordingCertificateFetcher, signSnsEnvelope, snsFixture, type SnsFixtureName } from '../helpers/sns';

function notification(name: SnsFixtureName, overrides: Record<string, string> = {}): SnsNotification {
  const message = parseSnsEnvelope({ ...snsFixture(name), ...overrides });
  if (message.Type !== 'Notification') throw new Error(`${name} is not a Notification`);
  return message;
}

describe('SNS notifications', () => {
  it('turns a verified CloudWatch alarm notification into the alarm’s alert', async () => {
    const { fetchCertificate } = recordingCertificateFetcher();
    const message = await createSnsVerifier({ fetchCertificate }).verify(
      JSON.stringify(signSnsEnvelope(snsFixture('notification-cloudwatch-alarm')))
    );
    if (message.Type !== 'Notification') throw new Error('expected a Notification');

    const alerts = normaliseSnsNotification(message);

    expect(alerts).toEqual([normaliseCloudWatchAlarm(loadFixture('cloudwatch/alarm-state-alarm.json'))]);
    expect(alerts[0]).toMatchObject({
      status: 'firing',
      fingerprint: 'arn:aws:cloudwatch:eu-west-1:123456789012:alarm:api-5xx-rate-high',
      content: { title: 'api-5xx-rate-high' },
    });
  });

  it('resolves the alarm’s alert on its OK notification', () => {
    const [alert] = normaliseSnsNotification(notification('notification-cloudwatch-ok'));

    expect(alert).toMatchObject({
      status: 'resolved',
      fingerprint: 'arn:aws:cloudwatch:eu-west-1:123456789012:alarm:api-5xx-rate-high',
    });
  });

  it('passes the INSUFFICIENT_DATA policy on to CloudWatch alarms', () => {
    const insufficient = notification('notification-cloudwatch-alarm', {
      Message: JSON.stringify(loadFixture('cloudwatch/alarm-insufficient-data-metric-math.json')),
    });

    expect(normaliseSnsNotification(insufficient)[0]!.ignoredBecause).toBeDefined();
    expect(normaliseSnsNotification(insufficient, { insufficientData: 'firing' })[0]!.ignoredBecause).toBeUndefined();
  });

  it('turns an EventBridge event delivered through SNS into its alert', () => {
    const [alert] = normaliseSnsNotification(notification('notification-eventbridge-guardduty'));

    expect(alert).toMatchObject({
      fingerprint: '96c6a1f2e4b0b3d1a8e9f7c6d5b4a3c2',
      content: { source: 'guardduty', severity: 'critical' },
    });
  });

  it('shows any other message with its Subject as the title and the message as text', () => {
    const [alert] = normaliseSnsNotification(notification('notification-plain-text'));

    expect(alert).toMatchObject({
      status: 'firing',
      content: {
        title: 'Nightly backup failed',
        text: 'pg_dump of orders-db exited with status 1\nerror: connection to server at "orders-db" failed: timeout expired',
        source: 'sns',
        fields: [{ label: 'Topic', value: 'escalator-alarms' }],
      },
    });
  });

  it('titles a message without Subject by its first line', () => {
    const [alert] = normaliseSnsNotification(notification('notification-plain-text-no-subject'));

    expect(alert!.content.title).toBe('Certificate for shop.example.com expires in 7 days');
    expect(alert!.content.text).toBe('Renewal job last ran 2026-11-20.');
  });

  it('keys other messages by topic and title: a repeat is the same alert, another topic another', () => {
    const first = normaliseSnsNotification(notification('notification-plain-text'))[0]!;
    const repeat = normaliseSnsNotification(
      notification('notification-plain-text', { MessageId: 'another', Message: 'pg_dump failed again' })
    )[0]!;
    const otherTopic = normaliseSnsNotification(
      notification('notification-plain-text', { TopicArn: 'arn:aws:sns:eu-west-1:123456789012:other' })
    )[0]!;

    expect(repeat.fingerprint).toBe(first.fingerprint);
    expect(otherTopic.fingerprint).not.toBe(first.fingerprint);
  });

  it('names an unrecognised JSON message by its title field, or by its topic, and shows the JSON', () => {
    const titled = notification('notification-plain-text-no-subject', {
      Message: JSON.stringify({ title: 'Budget exceeded', amount: 120 }),
    });
    const untitled = notification('notification-plain-text-no-subject', { Message: JSON.stringify({ amount: 120 }) });

    expect(normaliseSnsNotification(titled)[0]!.content.title).toBe('Budget exceeded');
    expect(normaliseSnsNotification(untitled)[0]!.content).toMatchObject({
      title: 'Notification on escalator-alarms',
      text: '{\n  "amount": 120\n}',
    });
  });

  it('refuses a message that is recognisably a CloudWatch alarm but malformed', () => {
    const broken = notification('notification-cloudwatch-alarm', {
      Message: JSON.stringify({ ...loadFixture('cloudwatch/alarm-state-alarm.json'), NewStateValue: 'MAYBE' }),
    });

    expect(() => normaliseSnsNotification(broken)).toThrow(InvalidAlertError);
  });
});
