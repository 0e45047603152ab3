/** `POST /api/teams`: registers a team and issues its endpoint. */
import type { RequestHandler } from 'express';
import { z } from 'zod';
import { parseDuration, type Config } from '../../config';
import type { Database } from '../../db/client';
import { HttpError } from '../errors';
import { createTeam, TeamNameTakenError } from '../services/teams';
import { parseInput } from '../validation';

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

const newTeamSchema = z.object({
  name: z
    .string()
    .max(40, 'must be at most 40 characters')
    .regex(TEAM_NAME, 'must be a slug: lowercase letters, digits and dashes, such as "payments-oncall"'),
  slackChannelId: z.string().regex(SLACK_CHANNEL_ID, 'must be a Slack channel id such as C0123ABCD'),
  engineers: z
    .array(z.string().regex(SLACK_USER_ID, 'must be a Slack user id such as U0123ABCD'))
    .min(1, 'at least one engineer is required')
    .max(100)
    .refine((ids) => new Set(ids).size === ids.length, 'must not list an engineer twice'),
  escalationTimeout: z
    .string()
    .transform((text, ctx) => {
      const ms = parseDuration(text);
      if (ms === undefined || ms < 1_000 || ms > MAX_ESCALATION_TIMEOUT_MS) {
        ctx.addIssue({
          code: 'custom',
          message: `expected a duration between 1s and 24h such as 30s or 5m, got "${text}"`,
        });
        return z.NEVER;
      }
      return ms;
    })
    .optional(),
  allowedTopicArns: z
    .array(
      z.string().regex(SNS_TOPIC_ARN, 'must be an SNS topic ARN such as arn:aws:sns:eu-west-1:123456789012:alarms')
    )
    .max(50)
    .optional(),
  allowRawDelivery: z.boolean().optional(),
  insufficientData: z.enum(['ignore', 'firing']).optional(),
});

/** Validates the team, creates it with one endpoint, and answers 201 with the token (shown once). */
export function createTeamHandler({ db, config }: { db: Database; config: Config }): RequestHandler {
  return async (req, res) => {
    const team = parseInput(newTeamSchema, req.body, 'body');
    try {
      const created = await createTeam(db, config.publicUrl, {
        name: team.name,
        slackChannelId: team.slackChannelId,
        engineers: team.engineers,
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
