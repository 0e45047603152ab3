import { normaliseCloudWatchAlarm } from '../../src/sources/cloudwatch';
import { normaliseEventBridgeEvent } from '../../src/sources/eventbridge';
import { InvalidAlertError } from '../../src/sources/types';
import { loadFixture } from '../fixtures';

interface Event {
  id: string;
  resources: string[];
  detail: Record<string, unknown>;
  [key: string]: unknown;
}

const event = (name: string) => loadFixture<Event>(`eventbridge/${name}.json`);

describe('EventBridge events', () => {
  describe('CloudWatch Alarm State Change', () => {
    it('is the same alert as the alarm’s SNS notification', () => {
      const viaEventBridge = normaliseEventBridgeEvent(event('cloudwatch-alarm-state-change'));
      const viaSns = normaliseCloudWatchAlarm(loadFixture('cloudwatch/alarm-state-alarm.json'));

      expect(viaEventBridge.fingerprint).toBe('arn:aws:cloudwatch:eu-west-1:123456789012:alarm:api-5xx-rate-high');
      expect(viaEventBridge).toEqual(viaSns);
    });

    it('resolves on OK and applies the INSUFFICIENT_DATA policy', () => {
      const ok = event('cloudwatch-alarm-state-change');
      (ok.detail.state as { value: string }).value = 'OK';
      const insufficient = event('cloudwatch-alarm-state-change');
      (insufficient.detail.state as { value: string }).value = 'INSUFFICIENT_DATA';

      expect(normaliseEventBridgeEvent(ok).status).toBe('resolved');
      expect(normaliseEventBridgeEvent(insufficient).ignoredBecause).toBeDefined();
      expect(normaliseEventBridgeEvent(insufficient, { insufficientData: 'firing' }).ignoredBecause).toBeUndefined();
    });

    it('builds the alarm ARN from account and region when resources is empty', () => {
      const alarm = { ...event('cloudwatch-alarm-state-change'), resources: [] };

      expect(normaliseEventBridgeEvent(alarm).fingerprint).toBe(
        'arn:aws:cloudwatch:eu-west-1:123456789012:alarm:api-5xx-rate-high'
      );
    });
  });

  describe('GuardDuty Finding', () => {
    it('alerts with the finding’s title, description and id, linked to the finding', () => {
      const alert = normaliseEventBridgeEvent(event('guardduty-finding'));

      expect(alert).toMatchObject({
        status: 'firing',
        fingerprint: '96c6a1f2e4b0b3d1a8e9f7c6d5b4a3c2',
        content: {
          title: '198.51.100.23 is performing SSH brute force attacks against i-0a1b2c3d4e5f67890.',
          severity: 'critical',
          source: 'guardduty',
          link: 'https://eu-west-1.console.aws.amazon.com/guardduty/home?region=eu-west-1#/findings?macros=current&fId=96c6a1f2e4b0b3d1a8e9f7c6d5b4a3c2',
        },
      });
      expect(alert.content.text).toMatch(/^198\.51\.100\.23 is performing SSH brute force attacks/);
      expect(alert.content.fields).toEqual(
        expect.arrayContaining([
          { label: 'Finding type', value: 'UnauthorizedAccess:EC2/SSHBruteForce' },
          { label: 'Resource', value: 'Instance i-0a1b2c3d4e5f67890' },
        ])
      );
    });

    it.each([
      [9, 'critical'],
      [7, 'critical'],
      [6.9, 'error'],
      [4, 'error'],
      [3.9, 'warning'],
      [1, 'warning'],
    ])('maps severity score %d to %s', (score, severity) => {
      const finding = event('guardduty-finding');
      finding.detail.severity = score;

      expect(normaliseEventBridgeEvent(finding).content.severity).toBe(severity);
    });

    it('refuses a finding without an id, since nothing could name its alert', () => {
      const finding = event('guardduty-finding');
      delete finding.detail.id;

      expect(() => normaliseEventBridgeEvent(finding)).toThrow(InvalidAlertError);
      expect(() => normaliseEventBridgeEvent(finding)).toThrow(/GuardDuty Finding detail: id/);
    });
  });

  describe('AWS Health Event', () => {
    it('fires while open, titled by service and event type, keyed by the event ARN', () => {
      const alert = normaliseEventBridgeEvent(event('health-event-open'));

      expect(alert).toMatchObject({
        status: 'firing',
        fingerprint:
          'arn:aws:health:eu-west-1::event/EC2/AWS_EC2_OPERATIONAL_ISSUE/AWS_EC2_OPERATIONAL_ISSUE_7f35c8ae-af1f-54e6-a526-d0179ed6d68f',
        content: {
          title: 'AWS Health: EC2 AWS_EC2_OPERATIONAL_ISSUE',
          text: 'We are investigating increased API error rates and latencies for the EC2 APIs in the EU-WEST-1 Region.',
          severity: 'error',
          source: 'aws-health',
        },
      });
      expect(alert.content.fields).toContainEqual({ label: 'Affected', value: 'i-0a1b2c3d4e5f67890' });
    });

    it('resolves the same alert when the event closes', () => {
      const open = normaliseEventBridgeEvent(event('health-event-open'));
      const closed = normaliseEventBridgeEvent(event('health-event-closed'));

      expect(closed.status).toBe('resolved');
      expect(closed.fingerprint).toBe(open.fingerprint);
    });

    it('treats a scheduled change as a warning that still needs an owner', () => {
      const scheduled = event('health-event-open');
      scheduled.detail.eventTypeCategory = 'scheduledChange';
      scheduled.detail.statusCode = 'upcoming';

      expect(normaliseEventBridgeEvent(scheduled)).toMatchObject({
        status: 'firing',
        content: { severity: 'warning' },
      });
    });
  });

  describe('any other event', () => {
    it('is titled by detail-type and source and shows its resources and detail', () => {
      const alert = normaliseEventBridgeEvent(event('ec2-instance-state-change'));

      expect(alert.status).toBe('firing');
      expect(alert.content).toMatchObject({
        title: 'EC2 Instance State-change Notification (aws.ec2)',
        source: 'aws.ec2',
        severity: 'warning',
      });
      expect(alert.content.fields).toContainEqual({
        label: 'Resources',
        value: 'arn:aws:ec2:eu-west-1:123456789012:instance/i-0a1b2c3d4e5f67890',
      });
      expect(JSON.parse(alert.content.text!)).toEqual({ 'instance-id': 'i-0a1b2c3d4e5f67890', state: 'stopped' });
    });

    it('is keyed by what it is about, not by the delivery id', () => {
      const first = event('ec2-instance-state-change');
      const redelivered = {
        ...event('ec2-instance-state-change'),
        id: 'another-delivery',
        time: '2026-11-28T12:30:00Z',
      };
      const otherInstance = {
        ...event('ec2-instance-state-change'),
        resources: ['arn:aws:ec2:eu-west-1:123456789012:instance/i-0ffffffffffffffff'],
      };

      expect(normaliseEventBridgeEvent(redelivered).fingerprint).toBe(normaliseEventBridgeEvent(first).fingerprint);
      expect(normaliseEventBridgeEvent(otherInstance).fingerprint).not.toBe(
        normaliseEventBridgeEvent(first).fingerprint
      );
    });

    it('does not let a custom source pass itself off as an AWS service', () => {
      const impostor = { ...event('guardduty-finding'), source: 'com.example.app' };

      const alert = normaliseEventBridgeEvent(impostor);

      expect(alert.content.title).toBe('GuardDuty Finding (com.example.app)');
      expect(alert.fingerprint).not.toBe('96c6a1f2e4b0b3d1a8e9f7c6d5b4a3c2');
    });
  });

  it('refuses something that is not an event, naming what is missing', () => {
    expect(() => normaliseEventBridgeEvent({ hello: 'world' })).toThrow(InvalidAlertError);
    expect(() => normaliseEventBridgeEvent({ hello: 'world' })).toThrow(/detail-type/);
  });
});
