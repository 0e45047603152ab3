/**
 * `GET /preview`: the local Slack preview of a dry run (PRODUCT.md: dry run only, loopback only).
 * Presses on its buttons are signed with the signing secret and posted to this gateway's own
 * `POST /slack/interactions` as Slack would post them, so they take the real path.
 */
import { createHash, createHmac, randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import express, { Router, type Request, type RequestHandler } from 'express';
import { z } from 'zod';
import type { Database } from '../../db/client';
import { renderPreview, type PreviewTeam } from '../../preview/conversations';
import { PREVIEW_CSS, PREVIEW_HTML, PREVIEW_JS } from '../../preview/page';
import type { Logger } from '../../logger';
import { DEMO_PEOPLE } from '../../slack/demo-people';
import type { DryRunOutbox } from '../../slack/dry-run-outbox';
import { HttpError } from '../errors';
import { PREVIEW_SLACK_TEAM_ID } from '../services/slack-workspaces';
import { parseInput } from '../validation';

const LOOPBACK_ADDRESSES = new Set(['127.0.0.1', '::1', '::ffff:127.0.0.1']);
const LOOPBACK_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]']);

/** The page has no inline script or style: anything that slipped into its HTML could not run. */
const CONTENT_SECURITY_POLICY =
  "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; " +
  "base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/** Slack-shaped ids: what the preview passes on as channel and user. */
const SLACK_ID = z.string().regex(/^[A-Z0-9]{1,40}$/, 'must be a Slack id such as C0DEMO or U0DEMO1');

const pressSchema = z.object({
  channel: SLACK_ID,
  messageTs: z.string().regex(/^\d+\.\d+$/, 'must be a Slack message ts such as 1700000000.000100'),
  actionId: z.string().min(1).max(255),
  blockId: z.string().max(255).optional(),
  value: z.string().max(2_000),
  label: z.string().max(75).optional(),
  userId: SLACK_ID,
});

const responseSchema = z.object({ text: z.string().max(40_000) }).passthrough();

export interface PreviewDeps {
  db: Database;
  /** Set in a dry run under `npm start`; without it /preview answers 404. */
  outbox?: DryRunOutbox;
  signingSecret?: string;
  clock: () => number;
  log: Logger;
}

/** Headers a reverse proxy adds: a request that passed one did not come from this machine's browser. */
const FORWARDING_HEADERS = ['forwarded', 'x-forwarded-for', 'x-forwarded-host', 'x-real-ip'];

/**
 * Only the machine itself may see the preview: the client's address must be loopback, and so must
 * the Host it asked for (a DNS-rebinding page would send its own), and nothing may have come
 * through a proxy (one on the same host that rewrites Host would pass both checks). A press must
 * carry the preview's own `Origin`, which every browser sends with a fetch POST: one without it is
 * not the page's (issue 24).
 */
const loopbackOnly: RequestHandler = (req, _res, next) => {
  const address = req.socket.remoteAddress ?? '';
  const host = (req.get('host') ?? '').replace(/:\d+$/, '').toLowerCase();
  const proxied = FORWARDING_HEADERS.some((header) => req.get(header) !== undefined);
  if (!LOOPBACK_ADDRESSES.has(address) || !LOOPBACK_HOSTS.has(host) || proxied) {
    throw new HttpError(403, 'the Slack preview is served to this machine only: open http://localhost:<PORT>/preview');
  }
  const origin = req.get('origin');
  const ownPage = origin === `http://${req.get('host') ?? ''}`;
  // Presses come from the page, always with its Origin; response_url replies come from this
  // gateway's own responder (no browser, no Origin): a browser's must still be the page's.
  const pageOnly = req.path === '/press' || origin !== undefined;
  if (req.method === 'POST' && pageOnly && !ownPage) {
    throw new HttpError(403, 'the Slack preview accepts presses from its own page only');
  }
  next();
};

export function previewRoutes(deps: PreviewDeps): Router {
  const router = Router();
  router.use(loopbackOnly);
  router.use((_req, _res, next) => {
    if (!deps.outbox || !deps.signingSecret) {
      throw new HttpError(404, 'the Slack preview is served only by npm start in dry run (SLACK_BOT_TOKEN unset)');
    }
    next();
  });
  const outbox = deps.outbox as DryRunOutbox;
  const signingSecret = deps.signingSecret as string;

  router.get('/', (_req, res) => {
    res.set('Content-Security-Policy', CONTENT_SECURITY_POLICY).type('html').send(PREVIEW_HTML);
  });
  router.get('/app.js', (_req, res) => {
    res.set('Content-Security-Policy', CONTENT_SECURITY_POLICY).type('js').send(PREVIEW_JS);
  });
  router.get('/app.css', (_req, res) => {
    res.set('Content-Security-Policy', CONTENT_SECURITY_POLICY).type('css').send(PREVIEW_CSS);
  });

  router.get('/view', async (req, res) => {
    const wanted = typeof req.query.conversation === 'string' ? req.query.conversation : undefined;
    const view = renderPreview(await previewTeams(deps.db), outbox.messages(), wanted, DEMO_PEOPLE);
    const people = view.current?.people ?? [];
    const peopleNames = Object.fromEntries(people.flatMap((id) => (DEMO_PEOPLE[id] ? [[id, DEMO_PEOPLE[id]]] : [])));
    const etag = createHash('sha256')
      .update(JSON.stringify([view.sidebarHtml, view.mainHtml, people]))
      .digest('base64url');
    res.set('Cache-Control', 'no-store');
    if (req.query.since === etag) {
      res.status(204).end();
      return;
    }
    res.json({
      etag,
      conversation: view.current?.id,
      people,
      peopleNames,
      sidebarHtml: view.sidebarHtml,
      mainHtml: view.mainHtml,
    });
  });

  router.post('/press', express.json({ limit: '16kb' }), async (req, res) => {
    const press = parseInput(pressSchema, req.body, 'body');
    const message = outbox.messages().find((m) => m.channel === press.channel && m.ts === press.messageTs);
    const body = new URLSearchParams({
      payload: JSON.stringify(blockActionsPayload(press, message, responseUrl(req, press))),
    }).toString();
    const timestamp = String(Math.floor(deps.clock() / 1000));
    const signature = createHmac('sha256', signingSecret).update(`v0:${timestamp}:${body}`).digest('hex');
    const answer = await fetch(`${ownOrigin(req)}/slack/interactions`, {
      method: 'POST',
      headers: {
        'Content-Type': 'application/x-www-form-urlencoded',
        'X-Slack-Request-Timestamp': timestamp,
        'X-Slack-Signature': `v0=${signature}`,
      },
      body,
      signal: AbortSignal.timeout(10_000),
    }).catch((error: unknown) => {
      throw new HttpError(502, `the press could not be posted to /slack/interactions: ${String(error)}`);
    });
    const text = await answer.text();
    deps.log.info({ action: press.actionId, userId: press.userId, status: answer.status }, 'preview press sent');
    res.json({ status: answer.status, ...(answer.ok ? {} : { error: errorOf(text) }) });
  });

  // The response_url handed out with each press: Escalator's ephemeral replies land here.
  router.post('/response/:channel/:user', express.json({ limit: '64kb' }), (req, res) => {
    const channel = parseInput(SLACK_ID, req.params.channel, 'channel');
    const user = parseInput(SLACK_ID, req.params.user, 'user');
    const reply = parseInput(responseSchema, req.body, 'body');
    outbox.post({ channel, ts: `${(deps.clock() / 1000).toFixed(6)}`, text: reply.text, onlyVisibleTo: user });
    res.json({ ok: true });
  });
  return router;
}

async function previewTeams(db: Database): Promise<PreviewTeam[]> {
  const teams = await db.team.findMany({ include: { engineers: { orderBy: { position: 'asc' } } } });
  return teams.map((team) => ({
    name: team.name,
    slackChannelId: team.slackChannelId,
    engineers: team.engineers.map((engineer) => engineer.slackUserId),
  }));
}

/** This gateway as the request reached it, over loopback. */
function ownOrigin(req: Request): string {
  const { address, port } = req.socket.address() as AddressInfo;
  return `http://${address.includes(':') ? `[${address}]` : address}:${port}`;
}

function responseUrl(req: Request, press: z.infer<typeof pressSchema>): string {
  return `${ownOrigin(req)}/preview/response/${press.channel}/${press.userId}`;
}

/** A `block_actions` payload as Slack sends it for a press on a message button. */
function blockActionsPayload(
  press: z.infer<typeof pressSchema>,
  message: { ts: string; text: string; blocks?: unknown[] } | undefined,
  responseUrlForPress: string
): Record<string, unknown> {
  const team = { id: PREVIEW_SLACK_TEAM_ID, domain: 'escalator-preview' };
  return {
    type: 'block_actions',
    // Handles as Slack sends them: the preview's people have none but their id (names come from users.info).
    user: { id: press.userId, username: press.userId, name: press.userId, team_id: team.id },
    api_app_id: 'A0PREVIEW',
    token: 'preview',
    team,
    channel: { id: press.channel, name: press.channel.toLowerCase() },
    container: { type: 'message', message_ts: press.messageTs, channel_id: press.channel, is_ephemeral: false },
    message: message ? { type: 'message', ts: message.ts, text: message.text, blocks: message.blocks } : undefined,
    trigger_id: randomUUID(),
    response_url: responseUrlForPress,
    actions: [
      {
        type: 'button',
        action_id: press.actionId,
        block_id: press.blockId ?? '',
        value: press.value,
        text: { type: 'plain_text', text: press.label ?? press.actionId, emoji: true },
        action_ts: (Date.now() / 1000).toFixed(6),
      },
    ],
  };
}

function errorOf(text: string): string {
  try {
    const { error } = JSON.parse(text) as { error?: unknown };
    return typeof error === 'string' ? error : text.slice(0, 200);
  } catch {
    return text.slice(0, 200);
  }
}
