/**
 * `POST /sns/:token`: AWS SNS's HTTPS subscription protocol. Every envelope is verified (signature,
 * certificate host, age) and checked against the endpoint's topic allow-list before anything
 * else; only then is a subscription confirmed or a notification taken as an alert.
 */
import type { RequestHandler } from 'express';
import type { Logger } from '../../logger';
import { SnsFormatError, SnsTopicNotAllowedError, SnsUnavailableError, SnsVerificationError } from '../../sns/errors';
import type { SnsConfirmation, SnsMessage } from '../../sns/message';
import { confirmSubscription, type SubscriptionConfirmer } from '../../sns/subscription';
import { checkTopicAllowed, type SnsVerifier } from '../../sns/verify';
import { parseArn } from '../../sources/aws';
import { compactFields, field } from '../../sources/fields';
import { normaliseSnsNotification } from '../../sources/sns-notification';
import type { IncomingAlert } from '../../sources/types';
import { normaliseWebhookRequest } from '../../sources/webhook';
import { HttpError } from '../errors';
import type { AlertIntake } from '../services/alert-intake';
import type { EndpointWithTeam } from '../services/endpoints';
import { endpointOf, normalised, takeAlerts } from './webhooks';

export interface SnsHandlerDeps {
  intake: AlertIntake;
  verifier: SnsVerifier;
  /** GETs the SubscribeURL of a verified confirmation; AWS over HTTPS unless a test brings its own. */
  subscriptionConfirmer?: SubscriptionConfirmer;
  log: Logger;
}

/** The answer to a subscription message; SNS reads only the status. */
export type SubscriptionAnswer = { confirmed: string } | { unsubscribed: string };

/**
 * Verifies the envelope, then: SubscriptionConfirmation → confirmed with AWS and shown to the team
 * (200 `{confirmed: topicArn}`); UnsubscribeConfirmation → shown to the team (200
 * `{unsubscribed: topicArn}`); Notification → its alert taken with the MessageId as delivery id,
 * so that a redelivery acts once (202). Raw message delivery (header `x-amz-sns-rawdelivery:
 * true`) is taken as a generic webhook only where the endpoint allows it.
 *
 * Status codes follow what SNS retries (5xx only): 400 for a body that is no SNS envelope, 401
 * when it is not provably from AWS, 403 for a topic the endpoint does not accept, 503 while AWS
 * (certificate, confirmation) or Temporal cannot be reached.
 */
export function snsHandler(deps: SnsHandlerDeps): RequestHandler {
  const { intake, verifier, log } = deps;
  return async (req, res) => {
    const endpoint = endpointOf(res);
    const requestLog = (req.log as Logger | undefined) ?? log;

    if (req.get('x-amz-sns-rawdelivery') === 'true') {
      if (!endpoint.allowRawDelivery) {
        throw new HttpError(
          400,
          'raw message delivery cannot be verified: turn RawMessageDelivery off on the subscription, or allow raw delivery on this endpoint'
        );
      }
      // Unsigned: the endpoint token is its only credential, as for any webhook.
      const alerts = normalised(() =>
        normaliseWebhookRequest(
          { contentType: req.get('content-type'), body: req.body as unknown },
          { insufficientData: endpoint.insufficientData }
        )
      );
      const messageId = req.get('x-amz-sns-message-id') || undefined;
      res.status(202).json(await takeAlerts(intake, endpoint, alerts, { group: false, deliveryId: messageId }));
      return;
    }

    let message: SnsMessage;
    try {
      // Each endpoint spends its own certificate-download budget: a flood on one cannot starve the others.
      message = await verifier.verify(req.body, { budgetKey: endpoint.id });
      checkTopicAllowed(message, endpoint.allowedTopicArns);
    } catch (error) {
      throw snsHttpError(error, requestLog, endpoint);
    }

    if (message.Type === 'Notification') {
      const notification = message;
      const alerts = normalised(() =>
        normaliseSnsNotification(notification, { insufficientData: endpoint.insufficientData })
      );
      res
        .status(202)
        .json(await takeAlerts(intake, endpoint, alerts, { group: false, deliveryId: notification.MessageId }));
      return;
    }

    if (message.Type === 'SubscriptionConfirmation') {
      try {
        await confirmSubscription(message, { fetch: deps.subscriptionConfirmer });
      } catch (error) {
        throw snsHttpError(error, requestLog, endpoint);
      }
      requestLog.info({ team: endpoint.team.name, topicArn: message.TopicArn }, 'SNS subscription confirmed');
      await showSubscriptionChange(intake, endpoint, message);
      res.status(200).json({ confirmed: message.TopicArn } satisfies SubscriptionAnswer);
      return;
    }

    // UnsubscribeConfirmation: its SubscribeURL would subscribe the endpoint again; never visited.
    requestLog.info({ team: endpoint.team.name, topicArn: message.TopicArn }, 'SNS subscription ended');
    await showSubscriptionChange(intake, endpoint, message);
    res.status(200).json({ unsubscribed: message.TopicArn } satisfies SubscriptionAnswer);
  };
}

/**
 * Puts a subscription change in front of the team: a notice of severity info, posted to the team
 * channel without mentioning anyone and resolved at once, so that it lands in the channel and in
 * an alert timeline (`GET /api/alerts/:id`) without ever escalating. The MessageId keeps a redelivered
 * confirmation from posting twice.
 */
async function showSubscriptionChange(
  intake: AlertIntake,
  endpoint: EndpointWithTeam,
  message: SnsConfirmation
): Promise<void> {
  const notice = subscriptionNotice(message);
  await intake.receiveAlert(endpoint, notice, message.MessageId);
  await intake.receiveAlert(endpoint, { ...notice, status: 'resolved' }, `${message.MessageId}/resolved`);
}

/** What the team reads about a confirmed or ended subscription. */
export function subscriptionNotice(message: SnsConfirmation): IncomingAlert {
  const arn = parseArn(message.TopicArn);
  const topicName = message.TopicArn.split(':').at(-1) ?? message.TopicArn;
  const confirmed = message.Type === 'SubscriptionConfirmation';
  return {
    status: 'firing',
    notice: true,
    fingerprint: `sns-subscription/${message.TopicArn}`,
    content: {
      title: confirmed ? `SNS subscription confirmed: ${topicName}` : `SNS subscription ended: ${topicName}`,
      text: confirmed
        ? `Escalator confirmed this team's HTTPS subscription to the SNS topic ${message.TopicArn}. ` +
          'Alerts published to it now arrive in this channel. Nothing else to do.'
        : `AWS unsubscribed this team's endpoint from the SNS topic ${message.TopicArn}: ` +
          "alerts published to it no longer arrive here. To undo it, subscribe the team's SNS URL again.",
      severity: 'info',
      source: 'sns',
      fields: compactFields([
        field('Topic', message.TopicArn),
        field('Account', arn?.account),
        field('Region', arn?.region),
      ]),
    },
  };
}

/**
 * The answer for each way an SNS message can fail. SNS retries only 5xx, so only what may
 * succeed later (AWS unreachable) is one; the refusals are logged with their reason, since SNS
 * shows the subscriber nothing but the status.
 */
function snsHttpError(error: unknown, log: Logger, endpoint: EndpointWithTeam): unknown {
  const context = { team: endpoint.team.name, reason: (error as Error).message };
  if (error instanceof SnsTopicNotAllowedError) {
    log.warn(context, 'SNS message refused: topic not allowed');
    return new HttpError(403, error.message);
  }
  if (error instanceof SnsVerificationError) {
    log.warn(context, 'SNS message refused: not verified');
    return new HttpError(401, `SNS message not verified: ${error.message}`);
  }
  if (error instanceof SnsFormatError) {
    log.warn(context, 'SNS message refused: not an SNS envelope');
    return new HttpError(400, error.message);
  }
  if (error instanceof SnsUnavailableError) {
    log.warn(context, 'SNS message not taken: AWS unreachable');
    return new HttpError(503, 'AWS could not be reached to verify or confirm the message, retry later');
  }
  return error;
}
