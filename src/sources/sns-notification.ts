/**
 * What a verified SNS Notification says: a CloudWatch alarm, an EventBridge event, or anything
 * else a publisher sent (a backup script, RDS events, AWS Budgets), shown as text.
 */
import { derivedFingerprint } from '../domain/fingerprint';
import type { SnsNotification } from '../sns/message';
import { isCloudWatchAlarmMessage, normaliseCloudWatchAlarm, type CloudWatchOptions } from './cloudwatch';
import { isEventBridgeEvent, normaliseEventBridgeEvent } from './eventbridge';
import {
  compactFields,
  field,
  isPlainObject,
  MAX_TEXT_LENGTH,
  MAX_TITLE_LENGTH,
  titleAndTextOf,
  truncate,
} from './fields';
import type { IncomingAlert } from './types';
import { assertAlertsWithinLimits, assertInputWithinLimits } from './input-limits';
import { withSecretsMasked } from './secrets';

/**
 * The alerts in an SNS notification (verify it first). CloudWatch alarms and EventBridge events
 * keep their own fingerprints; other messages are keyed by topic and title. Throws
 * InvalidAlertError when a message that is recognisably an alarm or event is malformed.
 */
export function normaliseSnsNotification(
  notification: SnsNotification,
  options: CloudWatchOptions = {}
): IncomingAlert[] {
  const message = parseJsonObject(notification.Message);
  // The envelope was checked as it was parsed (sns/message.ts); what the publisher sent is checked here.
  if (message) assertInputWithinLimits(message, 'Message');
  const alerts = [snsAlert(notification, message, options)];
  assertAlertsWithinLimits(alerts);
  return withSecretsMasked(alerts);
}

function snsAlert(
  notification: SnsNotification,
  message: Record<string, unknown> | undefined,
  options: CloudWatchOptions
): IncomingAlert {
  if (isCloudWatchAlarmMessage(message)) return normaliseCloudWatchAlarm(message, options);
  if (isEventBridgeEvent(message)) return normaliseEventBridgeEvent(message, options);
  return publishedMessageAlert(notification, message);
}

function publishedMessageAlert(
  notification: SnsNotification,
  json: Record<string, unknown> | undefined
): IncomingAlert {
  const subject = notification.Subject?.trim();
  const topicName = notification.TopicArn.split(':').at(-1) ?? notification.TopicArn;
  let title: string;
  let text: string | undefined;
  if (json) {
    // A JSON message's first line is `{`: name it by a title-like field or by its topic.
    const named = ['title', 'subject', 'summary', 'message']
      .map((key) => json[key])
      .find((value) => typeof value === 'string');
    title = subject || (typeof named === 'string' && named.trim()) || `Notification on ${topicName}`;
    text = JSON.stringify(json, null, 2);
  } else {
    const fromMessage = titleAndTextOf(notification.Message);
    title = subject || fromMessage.title || `Notification on ${topicName}`;
    text = subject ? notification.Message.trim() : fromMessage.text;
  }
  title = truncate(title, MAX_TITLE_LENGTH);
  return {
    status: 'firing',
    fingerprint: derivedFingerprint(notification.TopicArn, title),
    content: {
      title,
      text: text ? truncate(text, MAX_TEXT_LENGTH) : undefined,
      severity: 'warning',
      source: 'sns',
      fields: compactFields([field('Topic', topicName)]),
    },
  };
}

function parseJsonObject(message: string): Record<string, unknown> | undefined {
  if (!message.trimStart().startsWith('{')) return undefined;
  try {
    const value: unknown = JSON.parse(message);
    return isPlainObject(value) ? value : undefined;
  } catch {
    return undefined;
  }
}
