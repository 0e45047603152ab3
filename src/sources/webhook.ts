/**
 * The entry point for `POST|GET /webhooks/:token`: recognises what posted (Alertmanager, Grafana,
 * an EventBridge API destination, a CloudWatch alarm forwarded as JSON, Uptime Robot, New Relic)
 * and falls back to the generic webhook.
 */
import { alertmanagerAlerts, isAlertmanagerWebhook } from './alertmanager';
import { isCloudWatchAlarmMessage, normaliseCloudWatchAlarm, type CloudWatchOptions } from './cloudwatch';
import { isEventBridgeEvent, normaliseEventBridgeEvent } from './eventbridge';
import { isPlainObject } from './fields';
import { normaliseGenericRequest, readRequestBody, type GenericRequest } from './generic';
import { assertAlertsWithinLimits, assertRequestWithinLimits } from './input-limits';
import { withSecretsMasked } from './secrets';
import { InvalidAlertError, type IncomingAlert } from './types';

export type WebhookRequest = GenericRequest;

/**
 * The alerts in one webhook request: several for an Alertmanager or Grafana group, otherwise one.
 * X-Alert-Key (`request.alertKey`) applies to single generic alerts, not to sources that carry
 * their own keys. Secrets in them are masked (see secrets.ts). Throws InvalidAlertError (400)
 * naming what is wrong.
 */
export function normaliseWebhookRequest(request: WebhookRequest, options: CloudWatchOptions = {}): IncomingAlert[] {
  assertRequestWithinLimits(request);
  const alerts = webhookAlerts(request, options);
  assertAlertsWithinLimits(alerts);
  return withSecretsMasked(alerts);
}

function webhookAlerts(request: WebhookRequest, options: CloudWatchOptions): IncomingAlert[] {
  const body = readRequestBody(request);
  const json = body.kind === 'json' && isPlainObject(body.value) ? body.value : undefined;
  if (looksLikeSnsEnvelope(json)) {
    throw new InvalidAlertError(
      "this is an AWS SNS message: subscribe the SNS topic to the endpoint's SNS URL (/sns/<token>, shown as " +
        'snsUrl when the team was created), where its signature is checked; this webhook URL takes other formats'
    );
  }
  if (json) {
    if (isAlertmanagerWebhook(json)) return alertmanagerAlerts(json);
    if (isEventBridgeEvent(json)) return [normaliseEventBridgeEvent(json, options)];
    if (isCloudWatchAlarmMessage(json)) return [normaliseCloudWatchAlarm(json, options)];
  }
  return [normaliseGenericRequest(request)];
}

const SNS_MESSAGE_TYPES = ['Notification', 'SubscriptionConfirmation', 'UnsubscribeConfirmation'];

/** An SNS envelope, signed or not (its text/plain body is read as JSON like any JSON-looking text). */
function looksLikeSnsEnvelope(value: unknown): boolean {
  return (
    isPlainObject(value) &&
    typeof value.Type === 'string' &&
    SNS_MESSAGE_TYPES.includes(value.Type) &&
    ('TopicArn' in value || 'MessageId' in value)
  );
}
