/**
 * EventBridge events, posted directly (API destination) or delivered as an SNS `Message`:
 * CloudWatch alarm state changes, GuardDuty findings and AWS Health events get their own
 * mapping; any other event becomes an alert named after its detail-type and source.
 */
import { z } from 'zod';
import type { Severity } from '../domain/alert';
import { derivedFingerprint } from '../domain/fingerprint';
import { awsConsoleUrl, parseArn } from './aws';
import { alarmStateChangeAlert, type CloudWatchOptions } from './cloudwatch';
import { compactFields, field, isPlainObject, MAX_TEXT_LENGTH, MAX_TITLE_LENGTH, truncate } from './fields';
import type { IncomingAlert } from './types';
import { parseOrThrow } from './validation';

const eventSchema = z.object({
  id: z.string().optional(),
  'detail-type': z.string().trim().min(1),
  source: z.string().trim().min(1),
  account: z.string().optional(),
  time: z.string().optional(),
  region: z.string().optional(),
  resources: z.array(z.string()).default([]),
  detail: z.record(z.string(), z.unknown()).default({}),
});

export type EventBridgeEvent = z.infer<typeof eventSchema>;

const alarmDetailSchema = z.object({
  alarmName: z.string().trim().min(1),
  state: z.object({
    value: z.enum(['ALARM', 'OK', 'INSUFFICIENT_DATA']),
    reason: z.string().nullish(),
    timestamp: z.string().nullish(),
  }),
  previousState: z.object({ value: z.string().nullish() }).nullish(),
  configuration: z.unknown().optional(),
});

// Details only, read leniently like the SNS form's Trigger.
const alarmConfigurationSchema = z.object({
  description: z.string().nullish(),
  metrics: z
    .array(
      z.object({
        label: z.string().nullish(),
        expression: z.string().nullish(),
        returnData: z.boolean().nullish(),
        metricStat: z
          .object({
            metric: z.object({
              name: z.string().nullish(),
              namespace: z.string().nullish(),
              dimensions: z.record(z.string(), z.unknown()).nullish(),
            }),
          })
          .nullish(),
      })
    )
    .nullish(),
});

const guardDutyDetailSchema = z.object({
  id: z.string().min(1),
  title: z.string().trim().min(1),
  description: z.string().nullish(),
  severity: z.number(),
  type: z.string().nullish(),
  partition: z.string().nullish(),
  region: z.string().nullish(),
  accountId: z.string().nullish(),
  resource: z
    .object({
      resourceType: z.string().nullish(),
      instanceDetails: z.object({ instanceId: z.string().nullish() }).nullish(),
    })
    .nullish(),
  service: z.object({ count: z.number().nullish() }).nullish(),
});

const healthDetailSchema = z.object({
  eventArn: z.string().min(1),
  service: z.string().min(1),
  eventTypeCode: z.string().min(1),
  eventTypeCategory: z.string().nullish(),
  statusCode: z.string().nullish(),
  eventRegion: z.string().nullish(),
  eventDescription: z.array(z.object({ language: z.string().nullish(), latestDescription: z.string() })).nullish(),
  affectedEntities: z.array(z.object({ entityValue: z.string() })).nullish(),
});

/** True when `value` has the envelope every EventBridge event has. */
export function isEventBridgeEvent(value: unknown): boolean {
  return (
    isPlainObject(value) &&
    typeof value['detail-type'] === 'string' &&
    typeof value.source === 'string' &&
    'detail' in value
  );
}

/**
 * An EventBridge event as an alert. Throws InvalidAlertError when it is not an event, or when a
 * known event type lacks what identifies it (an alarm without a name, a finding without an id).
 */
export function normaliseEventBridgeEvent(value: unknown, options: CloudWatchOptions = {}): IncomingAlert {
  const event = parseOrThrow(eventSchema, value, 'EventBridge event');
  const kind = `${event.source} ${event['detail-type']}`;
  if (kind === 'aws.cloudwatch CloudWatch Alarm State Change') return alarmAlert(event, options);
  if (kind === 'aws.guardduty GuardDuty Finding') return guardDutyAlert(event);
  if (kind === 'aws.health AWS Health Event') return healthAlert(event);
  return otherEventAlert(event);
}

function alarmAlert(event: EventBridgeEvent, options: CloudWatchOptions): IncomingAlert {
  const detail = parseOrThrow(alarmDetailSchema, event.detail, 'CloudWatch Alarm State Change detail');
  const configuration = alarmConfigurationSchema.safeParse(detail.configuration ?? {});
  const metrics = configuration.success ? (configuration.data.metrics ?? []) : [];
  const returned = metrics.find((metric) => metric.returnData) ?? metrics[0];
  const stat = returned?.metricStat?.metric;
  const metric = returned?.expression
    ? [returned.label, `(${returned.expression})`].filter(Boolean).join(' ')
    : [stat?.namespace, stat?.name].filter(Boolean).join(' ');
  const dimensions = metrics.flatMap((query) =>
    Object.entries(query.metricStat?.metric.dimensions ?? {}).map(([name, dimension]) => `${name}=${String(dimension)}`)
  );
  // The same ARN the SNS form carries, so that both routes of one alarm reach one alert.
  const alarmArn =
    event.resources.find((resource) => parseArn(resource)?.service === 'cloudwatch') ??
    (event.region && event.account
      ? `arn:aws:cloudwatch:${event.region}:${event.account}:alarm:${detail.alarmName}`
      : undefined);
  return alarmStateChangeAlert(
    {
      alarmName: detail.alarmName,
      alarmArn,
      description: (configuration.success ? configuration.data.description : undefined) ?? undefined,
      state: detail.state.value,
      previousState: detail.previousState?.value ?? undefined,
      reason: detail.state.reason ?? undefined,
      account: event.account,
      region: event.region,
      metric: metric || undefined,
      dimensions: [...new Set(dimensions)].join(', ') || undefined,
      changedAt: detail.state.timestamp ?? event.time,
    },
    options
  );
}

/** GuardDuty's scale: 7 and above is High (or Critical), 4 to 6.9 Medium, below Low. */
function guardDutySeverity(score: number): Severity {
  if (score >= 7) return 'critical';
  if (score >= 4) return 'error';
  return 'warning';
}

function guardDutyAlert(event: EventBridgeEvent): IncomingAlert {
  const finding = parseOrThrow(guardDutyDetailSchema, event.detail, 'GuardDuty Finding detail');
  const region = finding.region ?? event.region;
  const resource = finding.resource;
  return {
    status: 'firing',
    fingerprint: finding.id,
    ...(event.id ? { firingKey: event.id } : {}),
    content: {
      title: truncate(finding.title, MAX_TITLE_LENGTH),
      text: finding.description ? truncate(finding.description, MAX_TEXT_LENGTH) : undefined,
      severity: guardDutySeverity(finding.severity),
      source: 'guardduty',
      link: region
        ? awsConsoleUrl(
            finding.partition ?? 'aws',
            region,
            'guardduty',
            `#/findings?macros=current&fId=${encodeURIComponent(finding.id)}`
          )
        : undefined,
      fields: compactFields([
        field('Account', finding.accountId ?? event.account),
        field('Region', region),
        field('Finding type', finding.type),
        field('Severity score', finding.severity),
        field(
          'Resource',
          [resource?.resourceType, resource?.instanceDetails?.instanceId].filter(Boolean).join(' ') || undefined
        ),
        field('Count', finding.service?.count),
      ]),
    },
  };
}

const HEALTH_SEVERITY: Record<string, Severity> = {
  issue: 'error',
  scheduledChange: 'warning',
  accountNotification: 'info',
  investigation: 'info',
};

function healthAlert(event: EventBridgeEvent): IncomingAlert {
  const health = parseOrThrow(healthDetailSchema, event.detail, 'AWS Health Event detail');
  const descriptions = health.eventDescription ?? [];
  const description = (descriptions.find((entry) => entry.language === 'en_US') ?? descriptions[0])?.latestDescription;
  const affected = (health.affectedEntities ?? []).map((entity) => entity.entityValue);
  const partition = parseArn(health.eventArn)?.partition ?? 'aws';
  return {
    // `upcoming` (a scheduled change not started yet) still needs someone to own it.
    status: health.statusCode === 'closed' ? 'resolved' : 'firing',
    fingerprint: health.eventArn,
    content: {
      title: truncate(`AWS Health: ${health.service} ${health.eventTypeCode}`, MAX_TITLE_LENGTH),
      text: description ? truncate(description, MAX_TEXT_LENGTH) : undefined,
      severity: HEALTH_SEVERITY[health.eventTypeCategory ?? ''] ?? 'warning',
      source: 'aws-health',
      link:
        partition === 'aws'
          ? `https://health.aws.amazon.com/health/home#/account/event-log?eventID=${encodeURIComponent(health.eventArn)}`
          : undefined,
      fields: compactFields([
        field('Account', event.account),
        field('Region', health.eventRegion ?? event.region),
        field('Category', health.eventTypeCategory),
        field('Status', health.statusCode),
        field('Affected', affected),
      ]),
    },
  };
}

const MAX_DETAIL_TEXT_LENGTH = 2_000;

function otherEventAlert(event: EventBridgeEvent): IncomingAlert {
  const detailType = event['detail-type'];
  // An event's identity is what it is about, not its per-delivery `id`: the same kind of event
  // about the same resources is a repeat of one alert.
  const identity = [detailType, ...[...event.resources].sort()].join('\n');
  return {
    status: 'firing',
    fingerprint: derivedFingerprint(event.source, identity),
    ...(event.id ? { firingKey: event.id } : {}),
    content: {
      title: truncate(`${detailType} (${event.source})`, MAX_TITLE_LENGTH),
      text:
        Object.keys(event.detail).length > 0
          ? truncate(JSON.stringify(event.detail, null, 2), MAX_DETAIL_TEXT_LENGTH)
          : undefined,
      severity: 'warning',
      source: event.source,
      fields: compactFields([
        field('Account', event.account),
        field('Region', event.region),
        field('Resources', event.resources),
      ]),
    },
  };
}
