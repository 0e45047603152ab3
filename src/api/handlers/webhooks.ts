/**
 * `POST|GET /webhooks/:token` (any source the gateway recognises, else the generic alert) and
 * `POST /webhooks/:token/alertmanager` (Alertmanager and Grafana groups).
 */
import type { RequestHandler, Response } from 'express';
import type { Database } from '../../db/client';
import type { Severity } from '../../domain/alert';
import { isAlertmanagerWebhook, normaliseAlertmanagerWebhook } from '../../sources/alertmanager';
import { readRequestBody } from '../../sources/generic';
import { InvalidAlertError, type IncomingAlert } from '../../sources/types';
import { normaliseWebhookRequest } from '../../sources/webhook';
import { HttpError } from '../errors';
import { parseJson } from '../middleware/body';
import type { AlertIntake, IntakeResult } from '../services/alert-intake';
import type { CredentialGuard } from '../middleware/credential-guard';
import { findEndpointByToken, hashEndpointToken, type EndpointWithTeam } from '../services/endpoints';

/** One alert's answer: the intake's, and the severity mapping when the sender used an alias. */
export interface WebhookResult extends IntakeResult {
  severityMapped?: { from: string; to: Severity };
}

/** The answer to a request that carried a group of alerts: one result per alert, in order. */
export interface GroupIntakeResult {
  alerts: WebhookResult[];
}

/**
 * Looks up the endpoint of the token in the path before anything else happens (reading the body,
 * verifying a signature): an unknown token is 404 whatever was sent, and too many of them from one
 * client are 429 without a query (see credential-guard). The endpoint is kept for the handler in
 * `res.locals.endpoint`.
 */
export function endpointFromToken(db: Database, guard: CredentialGuard): RequestHandler<{ token: string }> {
  return async (req, res, next) => {
    const tokenHash = hashEndpointToken(req.params.token);
    await guard.checkNotBlocked(req, tokenHash);
    const endpoint = guard.isKnownUnknown(tokenHash) ? null : await findEndpointByToken(db, req.params.token);
    if (!endpoint) {
      await guard.recordFailure(req, tokenHash);
      throw new HttpError(404, 'unknown endpoint token');
    }
    guard.recordSuccess(tokenHash);
    if (endpoint.team.pausedAt) throw new HttpError(410, teamPausedMessage(endpoint.team.name));
    res.locals.endpoint = endpoint;
    next();
  };
}

/** Why a paused team's endpoint refuses reports (410: the sender should stop, nothing is kept). */
export function teamPausedMessage(teamName: string): string {
  return `team ${teamName} is paused: Escalator is not in its Slack channel (invite it back to resume)`;
}

/** The endpoint `endpointFromToken` found for this request. */
export function endpointOf(res: Response): EndpointWithTeam {
  return res.locals.endpoint as EndpointWithTeam;
}

/** Runs a source's normaliser, turning InvalidAlertError into a 400 that names what is wrong. */
export function normalised<T>(normalise: () => T): T {
  try {
    return normalise();
  } catch (error) {
    if (error instanceof InvalidAlertError) throw new HttpError(400, error.message);
    throw error;
  }
}

/**
 * The webhook request as the source modules read it: the raw body (JSON, form or text, decoded
 * by Content-Type), query parameters, and the X-Alert-Key header.
 */
function webhookRequest(req: Parameters<RequestHandler>[0]) {
  const contentType = req.get('content-type');
  const mediaType = contentType?.split(';', 1)[0]?.trim().toLowerCase() ?? '';
  const declaredJson = mediaType === 'application/json' || mediaType.endsWith('+json');
  return {
    contentType,
    // Parsed here for a JSON body so that a 400 quotes the parser (where the body broke off).
    body: declaredJson && Buffer.isBuffer(req.body) ? parseJson(req.body) : (req.body as unknown),
    query: req.query as Record<string, unknown>,
    alertKey: req.get('x-alert-key'),
  };
}

/**
 * Decodes any webhook request (JSON, form-encoded, text/plain, or GET query parameters) into its
 * alerts and takes each one. A group (Alertmanager, Grafana) answers `{alerts: [...]}`; a single
 * alert answers the contract's `{alertId, workflowId, duplicate}`. 202 once every alert is in
 * Temporal; 400 naming what is wrong; 503 while Temporal cannot take them.
 */
export function webhookHandler({ intake }: { intake: AlertIntake }): RequestHandler {
  return async (req, res) => {
    const endpoint = endpointOf(res);
    const request = webhookRequest(req);
    const alerts = normalised(() => normaliseWebhookRequest(request, { insufficientData: endpoint.insufficientData }));
    const body = normalised(() => readRequestBody(request));
    const group = body.kind === 'json' && isAlertmanagerWebhook(body.value);
    res.status(202).json(await takeAlerts(intake, endpoint, alerts, { group }));
  };
}

/**
 * Alertmanager's webhook (version 4) or Grafana's: one alert per entry, keyed by its
 * fingerprint; `resolved` entries resolve. Always answers the list, even for a group of one.
 */
export function alertmanagerHandler({ intake }: { intake: AlertIntake }): RequestHandler {
  return async (req, res) => {
    const endpoint = endpointOf(res);
    const alerts = normalised(() => normaliseAlertmanagerWebhook(parseJson(req.body)));
    res.status(202).json(await takeAlerts(intake, endpoint, alerts, { group: true }));
  };
}

/**
 * Hands the alerts of one request to the intake and shapes the answer: the list for a group,
 * the single result otherwise. `deliveryId` is the sender's message id, where it has one.
 */
export async function takeAlerts(
  intake: AlertIntake,
  endpoint: EndpointWithTeam,
  alerts: readonly IncomingAlert[],
  { group, deliveryId }: { group: boolean; deliveryId?: string }
): Promise<WebhookResult | GroupIntakeResult> {
  const taken = await intake.receiveAlerts(endpoint, alerts, deliveryId);
  // A severity given as an alias is taken, and the answer says what it became (docs/sources.md).
  const results: WebhookResult[] = taken.map((result, index) => {
    const alert = alerts[index];
    return alert?.severityMappedFrom === undefined
      ? result
      : { ...result, severityMapped: { from: alert.severityMappedFrom, to: alert.content.severity } };
  });
  if (!group && results.length === 1) return results[0] as WebhookResult;
  return { alerts: results };
}
