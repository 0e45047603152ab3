/** `/api/teams`: register, list, read, change and delete teams, and rotate their endpoint token. */
import type { RequestHandler } from 'express';
import { z } from 'zod';
import { parseDuration, type Config } from '../../config';
import type { Database } from '../../db/client';
import { HttpError } from '../errors';
import { SlackLookupError, type SlackDirectory } from '../../slack/directory';
import {
  archiveTeam,
  createTeam,
  getTeam,
  listTeams,
  rotateEndpointToken,
  TeamHasActiveAlertsError,
  TeamNameTakenError,
  UnknownScheduleError,
  updateTeam,
} from '../services/teams';
import { parseInput, pathId, UUID } from '../validation';

/** Team names go into workflow ids (`alert/<team>/…`) and URLs: a slug keeps both readable. */
const TEAM_NAME = /^[a-z0-9](?:[a-z0-9-]*[a-z0-9])?$/;
const SLACK_CHANNEL_ID = /^[CG][A-Z0-9]+$/;
const SLACK_USER_ID = /^[UW][A-Z0-9]+$/;
const MAX_ESCALATION_TIMEOUT_MS = 24 * 3_600_000;
/**
 * An SNS topic ARN, `*` allowed within a part (`arn:aws:sns:*:123456789012:*`). Checked here
 * because a mistyped entry would refuse every message of the topic, and SNS drops what it is
 * refused.
 */
const SNS_TOPIC_ARN = /^arn:[a-z*-]+:sns:[a-z0-9*-]+:(?:\d{12}|\*):[A-Za-z0-9_.*-]{1,256}$/;

/**
 * An engineer: a Slack user id, or an e-mail address that Slack resolves to one when a bot token
 * is set (resolved by resolveEngineers, after validation).
 */
const engineerSchema = z.union([z.string().regex(SLACK_USER_ID), z.email()], {
  error: 'must be a Slack user id such as U0123ABCD, or the e-mail address of a Slack member',
});

const engineersSchema = z
  .array(engineerSchema)
  .min(1, 'at least one engineer is required')
  .max(100)
  .refine((ids) => new Set(ids.map((id) => id.toLowerCase())).size === ids.length, 'must not list an engineer twice');

const escalationTimeoutSchema = z.string().transform((text, ctx) => {
  const ms = parseDuration(text);
  if (ms === undefined || ms < 1_000 || ms > MAX_ESCALATION_TIMEOUT_MS) {
    ctx.addIssue({
      code: 'custom',
      message: `expected a duration between 1s and 24h such as 30s or 5m, got "${text}"`,
    });
    return z.NEVER;
  }
  return ms;
});

const newTeamSchema = z.object({
  name: z
    .string()
    .max(40, 'must be at most 40 characters')
    .regex(TEAM_NAME, 'must be a slug: lowercase letters, digits and dashes, such as "payments-oncall"'),
  slackChannelId: z.string().regex(SLACK_CHANNEL_ID, 'must be a Slack channel id such as C0123ABCD'),
  engineers: engineersSchema,
  escalationTimeout: escalationTimeoutSchema.optional(),
  allowedTopicArns: z
    .array(
      z.string().regex(SNS_TOPIC_ARN, 'must be an SNS topic ARN such as arn:aws:sns:eu-west-1:123456789012:alarms')
    )
    .max(50)
    .optional(),
  allowRawDelivery: z.boolean().optional(),
  insufficientData: z.enum(['ignore', 'firing']).optional(),
});

const teamChangesSchema = z
  .object({
    slackChannelId: z.string().regex(SLACK_CHANNEL_ID, 'must be a Slack channel id such as C0123ABCD'),
    engineers: engineersSchema,
    escalationTimeout: escalationTimeoutSchema.nullable(),
    /** null: back to the engineers' order. */
    scheduleId: z.string().regex(UUID, 'must be a schedule id').nullable(),
    skipAway: z.boolean(),
  })
  .partial()
  .strict()
  .refine((changes) => Object.keys(changes).length > 0, {
    message: 'nothing to change: give engineers, slackChannelId, escalationTimeout, scheduleId or skipAway',
  });

export interface TeamsDeps {
  db: Database;
  config: Config;
  /** Resolves engineers given as e-mail addresses; absent without a Slack bot token. */
  directory?: SlackDirectory;
}

/**
 * Engineers as Slack user ids, in the given order: e-mail addresses are looked up in Slack. 400
 * naming the entry when one cannot be resolved; 502 when Slack cannot answer.
 */
async function resolveEngineers(engineers: string[], directory: SlackDirectory | undefined): Promise<string[]> {
  const ids = await Promise.all(
    engineers.map(async (engineer, index) => {
      if (!engineer.includes('@')) return engineer;
      if (!directory) {
        throw new HttpError(
          400,
          `engineers.${index}: must be a Slack user id such as U0123ABCD here: e-mail addresses are looked up in Slack, which needs SLACK_BOT_TOKEN`
        );
      }
      try {
        const id = await directory.userIdByEmail(engineer);
        if (!id)
          throw new HttpError(
            400,
            `engineers.${index}: no member of the Slack workspace has the e-mail address ${engineer}`
          );
        return id;
      } catch (error) {
        if (error instanceof SlackLookupError) throw new HttpError(502, error.message);
        throw error;
      }
    })
  );
  const duplicate = ids.find((id, i) => ids.indexOf(id) !== i);
  if (duplicate) throw new HttpError(400, `engineers: ${duplicate} is listed twice`);
  return ids;
}

/** The team id of the path: anything but a UUID names no team. */
function teamIdOf(param: unknown): string {
  return pathId(param, 'team');
}

/** Validates the team, creates it with one endpoint, and answers 201 with the token (shown once). */
export function createTeamHandler({ db, config, directory }: TeamsDeps): RequestHandler {
  return async (req, res) => {
    const team = parseInput(newTeamSchema, req.body, 'body');
    const engineers = await resolveEngineers(team.engineers, directory);
    try {
      const created = await createTeam(db, config.publicUrl, {
        name: team.name,
        slackChannelId: team.slackChannelId,
        engineers,
        escalationTimeoutMs: team.escalationTimeout,
        endpoint: {
          allowedTopicArns: team.allowedTopicArns,
          allowRawDelivery: team.allowRawDelivery,
          insufficientData: team.insufficientData,
        },
      });
      req.log.info({ teamId: created.id, team: created.name }, 'team created');
      res.status(201).json(created);
    } catch (error) {
      if (error instanceof TeamNameTakenError) throw new HttpError(409, error.message);
      throw error;
    }
  };
}

/** `GET /api/teams`: every team, by name. */
export function listTeamsHandler({ db }: TeamsDeps): RequestHandler {
  return async (_req, res) => {
    res.json({ teams: await listTeams(db) });
  };
}

/** `GET /api/teams/:id`. */
export function getTeamHandler({ db }: TeamsDeps): RequestHandler {
  return async (req, res) => {
    const team = await getTeam(db, teamIdOf(req.params.id));
    if (!team) throw new HttpError(404, 'no team with this id');
    res.json(team);
  };
}

/** `PATCH /api/teams/:id`: engineers, channel, escalation timeout, schedule, skipAway; validated like creation. */
export function updateTeamHandler({ db, directory }: TeamsDeps): RequestHandler {
  return async (req, res) => {
    const id = teamIdOf(req.params.id);
    const changes = parseInput(teamChangesSchema, req.body, 'body');
    const engineers = changes.engineers ? await resolveEngineers(changes.engineers, directory) : undefined;
    let team;
    try {
      team = await updateTeam(db, id, {
        slackChannelId: changes.slackChannelId,
        engineers,
        escalationTimeoutMs: changes.escalationTimeout,
        scheduleId: changes.scheduleId,
        skipAway: changes.skipAway,
      });
    } catch (error) {
      if (error instanceof UnknownScheduleError) throw new HttpError(400, error.message);
      throw error;
    }
    if (!team) throw new HttpError(404, 'no team with this id');
    req.log.info({ teamId: id, changed: Object.keys(changes) }, 'team changed');
    res.json(team);
  };
}

const deleteTeamQuery = z
  .object({
    closeOpenAlerts: z
      .enum(['true', 'false'], { error: 'must be true or false' })
      .optional()
      .transform((value) => value === 'true'),
  })
  .strict();

/**
 * `DELETE /api/teams/:id`: archives the team (its alerts' history stays readable) and answers 200
 * with what became of its alerts. 409 while it has open or acknowledged alerts, saying how to go
 * ahead: `?closeOpenAlerts=true` closes them, the deletion recorded as the reason.
 */
export function deleteTeamHandler({ db }: TeamsDeps): RequestHandler {
  return async (req, res) => {
    const id = teamIdOf(req.params.id);
    const { closeOpenAlerts } = parseInput(deleteTeamQuery, req.query, 'query');
    let archived;
    try {
      archived = await archiveTeam(db, id, { closeOpenAlerts });
    } catch (error) {
      if (error instanceof TeamHasActiveAlertsError) throw new HttpError(409, error.message);
      throw error;
    }
    if (!archived) throw new HttpError(404, 'no team with this id');
    req.log.info({ teamId: id, closedAlerts: archived.closedAlertIds.length }, 'team deleted (archived)');
    res.json(archived);
  };
}

/** `POST /api/teams/:id/token`: a new endpoint token (shown once); the old one stops working. */
export function rotateTokenHandler({ db, config }: TeamsDeps): RequestHandler {
  return async (req, res) => {
    const id = teamIdOf(req.params.id);
    const rotated = await rotateEndpointToken(db, config.publicUrl, id);
    if (!rotated) throw new HttpError(404, 'no team with this id');
    req.log.info({ teamId: id }, 'endpoint token rotated');
    res.json(rotated);
  };
}
