/**
 * CloudWatch alarms: the JSON that an alarm's SNS action publishes as the notification's
 * `Message`, and the shared mapping that EventBridge's "CloudWatch Alarm State Change" also uses.
 */
import { z } from 'zod';
import type { Severity } from '../domain/alert';
import { derivedFingerprint } from '../domain/fingerprint';
import { awsConsoleUrl, parseArn } from './aws';
import { compactFields, field, isPlainObject, MAX_TEXT_LENGTH, MAX_TITLE_LENGTH, truncate } from './fields';
import { normaliseSeverity } from './severity';
import type { IncomingAlert } from './types';
import { parseOrThrow } from './validation';

/**
 * What an INSUFFICIENT_DATA state does: `ignore` (default) records it without opening an alert,
 * since missing data is usually a quiet metric rather than a problem; `firing` alerts on it.
 */
export type InsufficientDataPolicy = 'ignore' | 'firing';

export interface CloudWatchOptions {
  insufficientData?: InsufficientDataPolicy;
}

export type AlarmStateValue = 'ALARM' | 'OK' | 'INSUFFICIENT_DATA';

/** One alarm state change, whichever way it arrived. */
export interface AlarmStateChange {
  alarmName: string;
  alarmArn?: string;
  description?: string;
  state: AlarmStateValue;
  previousState?: string;
  reason?: string;
  account?: string;
  /** The region code, e.g. `eu-west-1`; SNS messages carry only the long name, so it comes from the ARN. */
  region?: string;
  /** The long region name SNS messages carry, shown when no code is known. */
  regionName?: string;
  metric?: string;
  dimensions?: string;
  /** When the alarm changed state: each transition into ALARM is one firing. */
  changedAt?: string;
}

const stateValueSchema = z.enum(['ALARM', 'OK', 'INSUFFICIENT_DATA']);

const alarmMessageSchema = z.object({
  AlarmName: z.string().trim().min(1),
  AlarmDescription: z.string().nullish(),
  AWSAccountId: z.string().nullish(),
  NewStateValue: stateValueSchema,
  NewStateReason: z.string().nullish(),
  OldStateValue: z.string().nullish(),
  Region: z.string().nullish(),
  AlarmArn: z.string().nullish(),
  StateChangeTime: z.string().nullish(),
  Trigger: z.unknown().optional(),
});

// Details only: a drift in their shape must not turn a real alarm away, so they are read leniently.
const triggerSchema = z.object({
  MetricName: z.string().nullish(),
  Namespace: z.string().nullish(),
  Dimensions: z.array(z.object({ name: z.string(), value: z.unknown() })).nullish(),
  Metrics: z
    .array(
      z.object({
        Id: z.string().nullish(),
        Label: z.string().nullish(),
        Expression: z.string().nullish(),
        ReturnData: z.boolean().nullish(),
        MetricStat: z
          .object({
            Metric: z.object({
              MetricName: z.string().nullish(),
              Namespace: z.string().nullish(),
              Dimensions: z.array(z.object({ name: z.string(), value: z.unknown() })).nullish(),
            }),
          })
          .nullish(),
      })
    )
    .nullish(),
});

/** True when `value` looks like a CloudWatch alarm notification (an SNS `Message`, parsed). */
export function isCloudWatchAlarmMessage(value: unknown): boolean {
  return isPlainObject(value) && typeof value.AlarmName === 'string' && 'NewStateValue' in value;
}

/**
 * A CloudWatch alarm notification (the parsed SNS `Message`) as an alert: ALARM fires, OK
 * resolves, INSUFFICIENT_DATA per `options.insufficientData`. The fingerprint is the alarm ARN.
 * Throws InvalidAlertError when the alarm name or state is missing.
 */
export function normaliseCloudWatchAlarm(message: unknown, options: CloudWatchOptions = {}): IncomingAlert {
  const alarm = parseOrThrow(alarmMessageSchema, message, 'CloudWatch alarm');
  const trigger = triggerSchema.safeParse(alarm.Trigger ?? {});
  const metric = trigger.success ? describeTrigger(trigger.data) : {};
  return alarmStateChangeAlert(
    {
      alarmName: alarm.AlarmName,
      alarmArn: alarm.AlarmArn ?? undefined,
      description: alarm.AlarmDescription ?? undefined,
      state: alarm.NewStateValue,
      previousState: alarm.OldStateValue ?? undefined,
      reason: alarm.NewStateReason ?? undefined,
      account: alarm.AWSAccountId ?? undefined,
      region: parseArn(alarm.AlarmArn)?.region,
      regionName: alarm.Region ?? undefined,
      changedAt: alarm.StateChangeTime ?? undefined,
      ...metric,
    },
    options
  );
}

/** The alert for one alarm state change; shared by the SNS and EventBridge forms. */
export function alarmStateChangeAlert(change: AlarmStateChange, options: CloudWatchOptions = {}): IncomingAlert {
  const arn = parseArn(change.alarmArn);
  const region = change.region ?? arn?.region;
  const account = change.account ?? arn?.account;
  const text = [change.description, change.reason].filter((part) => part && part.trim() !== '').join('\n\n');
  const ignored = change.state === 'INSUFFICIENT_DATA' && (options.insufficientData ?? 'ignore') === 'ignore';
  return {
    status: change.state === 'OK' ? 'resolved' : 'firing',
    fingerprint:
      change.alarmArn ??
      derivedFingerprint('cloudwatch', `${account ?? ''}/${region ?? change.regionName ?? ''}/${change.alarmName}`),
    ...(change.changedAt ? { firingKey: `${change.state}@${change.changedAt}` } : {}),
    content: {
      title: truncate(change.alarmName, MAX_TITLE_LENGTH),
      text: text === '' ? undefined : truncate(text, MAX_TEXT_LENGTH),
      severity: change.state === 'INSUFFICIENT_DATA' ? 'warning' : severityFromDescription(change.description),
      source: 'cloudwatch',
      link: region
        ? awsConsoleUrl(
            arn?.partition ?? 'aws',
            region,
            'cloudwatch',
            `#alarmsV2:alarm/${encodeURIComponent(change.alarmName)}`
          )
        : undefined,
      fields: compactFields([
        field('Account', account),
        field('Region', region ?? change.regionName),
        field('Metric', change.metric),
        field('Dimensions', change.dimensions),
        field('State', change.previousState ? `${change.previousState} → ${change.state}` : change.state),
      ]),
    },
    ...(ignored ? { ignoredBecause: 'the alarm is INSUFFICIENT_DATA, which this endpoint does not alert on' } : {}),
  };
}

/**
 * Alarms carry no severity. An engineer can set one in the alarm's description (`severity:
 * critical`, `[severity=warning]`); otherwise an alarm is an error.
 */
function severityFromDescription(description: string | undefined): Severity {
  const match = description?.match(/\bseverity\s*[:=]\s*([a-z0-9]+)/i);
  return match?.[1] ? normaliseSeverity(match[1]) : 'error';
}

function describeTrigger(trigger: z.infer<typeof triggerSchema>): Pick<AlarmStateChange, 'metric' | 'dimensions'> {
  const dimensionList = (dimensions: { name: string; value: unknown }[] | null | undefined): string[] =>
    (dimensions ?? []).map(({ name, value }) => `${name}=${String(value)}`);
  if (trigger.MetricName) {
    return {
      metric: [trigger.Namespace, trigger.MetricName].filter(Boolean).join(' '),
      dimensions: dimensionList(trigger.Dimensions).join(', ') || undefined,
    };
  }
  // Metric math: show the expression the alarm evaluates and the dimensions of what it reads.
  const queries = trigger.Metrics ?? [];
  const returned = queries.find((query) => query.ReturnData) ?? queries[0];
  const expression = returned?.Expression ?? returned?.MetricStat?.Metric.MetricName ?? undefined;
  const label = returned?.Label;
  const dimensions = [...new Set(queries.flatMap((query) => dimensionList(query.MetricStat?.Metric.Dimensions)))];
  return {
    metric: label && expression ? `${label} (${expression})` : (label ?? expression ?? undefined),
    dimensions: dimensions.join(', ') || undefined,
  };
}
