import { normaliseCloudWatchAlarm } from '../../src/sources/cloudwatch';
import { InvalidAlertError } from '../../src/sources/types';
import { loadFixture } from '../fixtures';

const ALARM_ARN = 'arn:aws:cloudwatch:eu-west-1:123456789012:alarm:api-5xx-rate-high';

describe('CloudWatch alarm notifications', () => {
  it('turns ALARM into a firing alert keyed by the alarm ARN', () => {
    const alert = normaliseCloudWatchAlarm(loadFixture('cloudwatch/alarm-state-alarm.json'));

    expect(alert.status).toBe('firing');
    expect(alert.fingerprint).toBe(ALARM_ARN);
    expect(alert.ignoredBecause).toBeUndefined();
    expect(alert.content).toMatchObject({ title: 'api-5xx-rate-high', severity: 'error', source: 'cloudwatch' });
  });

  it('tells what the alarm is about and why it fired', () => {
    const { content } = normaliseCloudWatchAlarm(loadFixture('cloudwatch/alarm-state-alarm.json'));

    expect(content.text).toBe(
      '5xx responses from the API load balancer above 5 per 5 minutes. Runbook: https://wiki.example.com/runbooks/api-5xx' +
        '\n\nThreshold Crossed: 1 out of the last 1 datapoints [12.0 (28/11/26 10:15:00)] was greater than the threshold' +
        ' (5.0) (minimum 1 datapoint for OK -> ALARM transition).'
    );
    expect(content.fields).toEqual([
      { label: 'Account', value: '123456789012' },
      { label: 'Region', value: 'eu-west-1' },
      { label: 'Metric', value: 'AWS/ApplicationELB HTTPCode_Target_5XX_Count' },
      { label: 'Dimensions', value: 'LoadBalancer=app/api-prod/50dc6c495c0c9188' },
      { label: 'State', value: 'OK → ALARM' },
    ]);
  });

  it('links to the alarm in the console of the alarm’s own region, taken from its ARN', () => {
    const { content } = normaliseCloudWatchAlarm(loadFixture('cloudwatch/alarm-state-alarm.json'));

    expect(content.link).toBe(
      'https://eu-west-1.console.aws.amazon.com/cloudwatch/home?region=eu-west-1#alarmsV2:alarm/api-5xx-rate-high'
    );
  });

  it('encodes alarm names with spaces and slashes in the link', () => {
    const alarm = {
      ...loadFixture('cloudwatch/alarm-state-alarm.json'),
      AlarmName: 'API 5xx / prod',
      AlarmArn: 'arn:aws:cloudwatch:us-east-1:123456789012:alarm:API 5xx / prod',
    };

    expect(normaliseCloudWatchAlarm(alarm).content.link).toBe(
      'https://us-east-1.console.aws.amazon.com/cloudwatch/home?region=us-east-1#alarmsV2:alarm/API%205xx%20%2F%20prod'
    );
  });

  it.each([
    ['aws-cn', 'cn-north-1', 'https://cn-north-1.console.amazonaws.cn/cloudwatch/home?region=cn-north-1'],
    [
      'aws-us-gov',
      'us-gov-west-1',
      'https://us-gov-west-1.console.amazonaws-us-gov.com/cloudwatch/home?region=us-gov-west-1',
    ],
  ])('links into the %s partition’s console', (partition, region, consoleHome) => {
    const alarm = {
      ...loadFixture('cloudwatch/alarm-state-alarm.json'),
      AlarmArn: `arn:${partition}:cloudwatch:${region}:123456789012:alarm:api-5xx-rate-high`,
    };

    expect(normaliseCloudWatchAlarm(alarm).content.link).toBe(`${consoleHome}#alarmsV2:alarm/api-5xx-rate-high`);
  });

  it('resolves the same alert when the alarm returns to OK', () => {
    const firing = normaliseCloudWatchAlarm(loadFixture('cloudwatch/alarm-state-alarm.json'));
    const ok = normaliseCloudWatchAlarm(loadFixture('cloudwatch/alarm-state-ok.json'));

    expect(ok.status).toBe('resolved');
    expect(ok.fingerprint).toBe(firing.fingerprint);
    expect(ok.content.fields).toContainEqual({ label: 'State', value: 'ALARM → OK' });
  });

  it('records INSUFFICIENT_DATA without opening an alert, by default', () => {
    const alert = normaliseCloudWatchAlarm(loadFixture('cloudwatch/alarm-insufficient-data-metric-math.json'));

    expect(alert.ignoredBecause).toBe('the alarm is INSUFFICIENT_DATA, which this endpoint does not alert on');
    expect(alert.fingerprint).toBe('arn:aws:cloudwatch:us-east-1:210987654321:alarm:orders queue backlog per consumer');
  });

  it('alerts on INSUFFICIENT_DATA, as a warning, when the endpoint asks for it', () => {
    const alert = normaliseCloudWatchAlarm(loadFixture('cloudwatch/alarm-insufficient-data-metric-math.json'), {
      insufficientData: 'firing',
    });

    expect(alert.ignoredBecause).toBeUndefined();
    expect(alert.status).toBe('firing');
    expect(alert.content.severity).toBe('warning');
  });

  it('shows the expression of a metric-math alarm and the dimensions it reads', () => {
    const { content } = normaliseCloudWatchAlarm(loadFixture('cloudwatch/alarm-insufficient-data-metric-math.json'));

    expect(content.fields).toEqual(
      expect.arrayContaining([
        { label: 'Metric', value: 'Backlog per consumer (backlog / consumers)' },
        { label: 'Dimensions', value: 'QueueName=orders' },
        { label: 'Region', value: 'us-east-1' },
      ])
    );
    expect(content.text).toBe('Insufficient Data: 1 datapoint was unknown.');
  });

  it('takes a severity written into the alarm description', () => {
    const alarm = {
      ...loadFixture('cloudwatch/alarm-state-alarm.json'),
      AlarmDescription: 'Checkout is failing. severity: critical',
    };

    expect(normaliseCloudWatchAlarm(alarm).content.severity).toBe('critical');
  });

  it('keys an old-style message without AlarmArn by account, region and name, consistently, without a link', () => {
    const withoutArn = (path: string) => {
      const alarm = loadFixture(path);
      delete alarm.AlarmArn;
      return normaliseCloudWatchAlarm(alarm);
    };

    const firing = withoutArn('cloudwatch/alarm-state-alarm.json');
    const ok = withoutArn('cloudwatch/alarm-state-ok.json');

    expect(ok.fingerprint).toBe(firing.fingerprint);
    expect(firing.fingerprint).not.toBe(ALARM_ARN);
    expect(firing.content.link).toBeUndefined();
    expect(firing.content.fields).toContainEqual({ label: 'Region', value: 'EU (Ireland)' });
  });

  it('still alerts when the Trigger has an unexpected shape', () => {
    const alarm = { ...loadFixture('cloudwatch/alarm-state-alarm.json'), Trigger: { Dimensions: 'surprise' } };

    const alert = normaliseCloudWatchAlarm(alarm);

    expect(alert.status).toBe('firing');
    expect(alert.content.fields?.map((entry) => entry.label)).toEqual(['Account', 'Region', 'State']);
  });

  it.each([
    ['AlarmName', { AlarmName: undefined }, /AlarmName/],
    ['NewStateValue', { NewStateValue: 'BROKEN' }, /NewStateValue/],
  ])('refuses an alarm without a valid %s, naming it', (_, change, message) => {
    const alarm = { ...loadFixture('cloudwatch/alarm-state-alarm.json'), ...change };

    expect(() => normaliseCloudWatchAlarm(alarm)).toThrow(InvalidAlertError);
    expect(() => normaliseCloudWatchAlarm(alarm)).toThrow(message);
  });
});
