/**
 * A local stand-in for the Slack Web API: a real HTTP server on 127.0.0.1 that answers the
 * methods Escalator calls the way Slack does, records every call, and fails on request.
 *
 *   const slack = await startFakeSlack();
 *   // SLACK_API_URL=slack.url, SLACK_BOT_TOKEN=<anything>
 *   slack.failNext('chat.postMessage', { kind: 'http', status: 500 }, 2);
 *   …
 *   expect(slack.messages()).toHaveLength(1);
 *   await slack.close();
 *
 * A user id as chat.postMessage's channel posts to the bot's DM with that user, whose channel id
 * (`D` + the user id) the answer and messages() carry, as Slack's do.
 *
 * Methods: chat.postMessage, chat.update, chat.postEphemeral, conversations.open, auth.test,
 * users.lookupByEmail (over the people given as `users` or added with `addUser`), users.info (people
 * named with `setDisplayName`; anyone else is `user_not_found`), users.getPresence and dnd.info
 * (everyone active and reachable unless `setPresence` says otherwise), views.open (a modal), views.publish
 * (a Home tab: `homeView` reads the latest one a person was shown; more than 100 blocks is refused),
 * usergroups.users.update (a group's members as `usergroup` reads them; an empty list is refused);
 * any other method answers `{ok: false, error: 'unknown_method'}`. `workspaces` adds OAuth
 * installs (oauth.v2.access) and, per issued bot token, auth.test, conversations.info,
 * conversations.members and users.info (createFakeWorkspaces). Bodies may be form-encoded
 * (as @slack/web-api sends them, with `blocks` as a JSON string) or JSON. A call without a token
 * (`Authorization: Bearer …` or a `token` field) answers `not_authed`, like Slack.
 *
 * Interaction replies: `responseUrl()` hands out a `response_url` (POST /response/<id>) whose
 * calls are recorded under the method name `response_url`.
 *
 * Slack's pace (`startFakeSlack({ pace: true })`, off by default so that tests about other things
 * never meet a 429): chat.postMessage is allowed about once per second per channel with a short
 * burst, chat.update at Tier 3 (about 50 per minute for the whole workspace); a call beyond that
 * answers HTTP 429 `ratelimited` with `Retry-After` (whole seconds until the allowance has room
 * again), as Slack does. A refused call uses up nothing. `counts()` says how many calls came and
 * how many were refused.
 */
import { randomUUID } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A decoded request body or block: loosely typed on purpose, so that tests can reach into what
 * was posted (`call.body.blocks[0].text.text`) without a cast at every step.
 */
export type SlackPayload = Record<string, any>;

/** How the next call(s) of a method fail instead of being answered. */
export type SlackFault =
  /** An HTTP error status (500, 502, 503 …) with an HTML-ish body, as a load balancer sends it. */
  | { kind: 'http'; status: number }
  /** No answer for `ms` (default 10 s, well past the client's 3-second timeout); nothing is applied. */
  | { kind: 'hang'; ms?: number }
  /** HTTP 429 with `Retry-After: <retryAfter>` seconds. */
  | { kind: 'rate_limited'; retryAfter: number }
  /** HTTP 200 `{ok: false, error}`: a platform error such as `channel_not_found` or `invalid_auth`. */
  | { kind: 'error'; error: string };

/** One recorded HTTP call to the fake. */
export interface SlackCall {
  /** Web API method (`chat.postMessage` …), or `response_url` for interaction replies. */
  method: string;
  /** The parsed body: form fields (with `blocks`/`attachments` JSON-decoded) or the JSON object. */
  body: SlackPayload;
  /** Bearer token (or body `token`) the call carried, if any. */
  token?: string;
  /** `Date.now()` when the request arrived. */
  at: number;
  /** How it was answered: `ok`, a platform error code, or the fault kind that answered it. */
  outcome: string;
  /** The `<id>` of a `response_url` call. */
  responseId?: string;
  /** How long the answer was held back by `stallNext`, if it was. */
  stalledMs?: number;
}

/** A message as it stands in the fake workspace after every post and update. */
export interface FakeSlackMessage {
  channel: string;
  ts: string;
  threadTs?: string;
  text?: string;
  blocks?: SlackPayload[];
  /** How many times chat.update rewrote it. */
  updates: number;
}

export interface FakeSlack {
  /** Base URL of the Web API, ending with `/`: the value for SLACK_API_URL. */
  url: string;
  /** Every recorded call, oldest first; only those of `method` when given. */
  calls(method?: string): SlackCall[];
  /** Makes the next `times` calls of `method` fail with `fault` (queued after earlier faults). */
  failNext(method: string, fault: SlackFault, times?: number): void;
  /**
   * Holds back the next `times` calls of `method` for `ms` each, then answers them as usual (applied,
   * or failed by a queued fault): Slack being slow, not down. A call's `at` is still when it arrived.
   */
  stallNext(method: string, ms: number, times?: number): void;
  /** Messages that exist (posted with success), oldest first; in `channel` only when given. */
  messages(channel?: string): FakeSlackMessage[];
  /** The message with this `ts` in `channel`, if it exists. */
  message(channel: string, ts: string): FakeSlackMessage | undefined;
  /** The Home tab last published for `user` (views.publish), by a bot of workspace `teamId` when given. */
  homeView(user: string, teamId?: string): SlackPayload | undefined;
  /** A fresh `response_url` for an interaction payload, answered by this fake. */
  responseUrl(): string;
  /** Gives `userId` a display name that users.info answers with (undefined: forgets them). */
  setDisplayName(userId: string, displayName: string | undefined): void;
  /** Adds a workspace member that users.lookupByEmail finds. */
  addUser(email: string, userId: string): void;
  /** The members of user group `id` as usergroups.users.update last set them; undefined before that. */
  usergroup(id: string): string[] | undefined;
  /** What users.getPresence (`away`) and dnd.info (`dnd`: in quiet hours now) answer for `userId`. */
  setPresence(userId: string, presence: { away?: boolean; dnd?: boolean }): void;
  /** Calls received, and how many of them were answered 429 (a `rate_limited` fault or the pace). */
  counts(method?: string): { calls: number; rateLimited: number };
  /** Forgets calls, messages and pending faults (and refills the pace's allowances). */
  reset(): void;
  /** Stops the server, cutting hanging calls short. */
  close(): Promise<void>;
  /** Workspaces that install the app through OAuth (oauth.v2.access), each with its bot token. */
  workspaces: FakeWorkspaces;
}

/** Slack's rate limits as the stand-in enforces them; each field has Slack's published figure as default. */
export interface SlackPace {
  /** chat.postMessage per channel, sustained (Slack: about 1 per second). */
  postsPerSecond?: number;
  /** chat.postMessage per channel in a burst before the sustained rate applies. */
  postBurst?: number;
  /** chat.update per workspace per minute (Tier 3: about 50); 0 leaves chat.update unlimited. */
  updatesPerMinute?: number;
  /** chat.update in a burst before the Tier 3 rate applies. */
  updateBurst?: number;
}

export const SLACK_PACE_DEFAULTS: Required<SlackPace> = {
  postsPerSecond: 1,
  postBurst: 4,
  updatesPerMinute: 50,
  updateBurst: 10,
};

export interface FakeSlackOptions {
  /** When set, calls with any other token answer `invalid_auth`. */
  token?: string;
  /** Workspace members by e-mail address: user id. */
  users?: Record<string, string>;
  /** Enforce Slack's rate limits (`true` for Slack's figures); off by default. */
  pace?: boolean | SlackPace;
}

/**
 * A token bucket: `burst` calls at once, refilled at `perSecond`. `take` says 0 when the call may
 * go, otherwise the seconds until it could (what Retry-After carries).
 */
function tokenBucket(perSecond: number, burst: number) {
  let tokens = burst;
  let at = Date.now();
  return {
    take(now: number): number {
      tokens = Math.min(burst, tokens + ((now - at) / 1000) * perSecond);
      at = now;
      if (tokens >= 1) {
        tokens -= 1;
        return 0;
      }
      return Math.max(1, Math.ceil((1 - tokens) / perSecond));
    },
  };
}

/** Starts a fake Slack Web API on 127.0.0.1 at a random port. */
export async function startFakeSlack({
  token: expectedToken,
  users = {},
  pace,
}: FakeSlackOptions = {}): Promise<FakeSlack> {
  const members = new Map(Object.entries(users).map(([email, id]) => [email.toLowerCase(), id]));
  const displayNames = new Map<string, string>();
  const limits = pace ? { ...SLACK_PACE_DEFAULTS, ...(pace === true ? {} : pace) } : undefined;
  let postBuckets = new Map<string, ReturnType<typeof tokenBucket>>();
  let updateBucket = limits ? tokenBucket(limits.updatesPerMinute / 60, limits.updateBurst) : undefined;
  /** Seconds to wait before this call would be within Slack's pace; 0 when it may go now. */
  const paceDelay = (method: string, body: SlackPayload, now: number): number => {
    if (!limits) return 0;
    if (method === 'chat.postMessage' && body.channel) {
      const channel = directMessageChannel(String(body.channel));
      let bucket = postBuckets.get(channel);
      if (!bucket) postBuckets.set(channel, (bucket = tokenBucket(limits.postsPerSecond, limits.postBurst)));
      return bucket.take(now);
    }
    if (method === 'chat.update' && limits.updatesPerMinute > 0) return updateBucket?.take(now) ?? 0;
    return 0;
  };
  const calls: SlackCall[] = [];
  const presences = new Map<string, { away?: boolean; dnd?: boolean }>();
  const faults = new Map<string, SlackFault[]>();
  const messages: FakeSlackMessage[] = [];
  /** User group id → its members (usergroups.users.update). */
  const usergroups = new Map<string, string[]>();
  const hangs = new Set<NodeJS.Timeout>();
  const stalls = new Map<string, number[]>();
  const workspaces = createFakeWorkspaces();
  // Slack's ts: seconds, a dot, six digits; strictly increasing here so that each is unique.
  let tsCounter = 0;
  const tsBase = Math.floor(Date.now() / 1000);
  const nextTs = () => {
    tsCounter += 1;
    return `${tsBase + Math.floor(tsCounter / 1_000_000)}.${String(tsCounter % 1_000_000).padStart(6, '0')}`;
  };

  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', async () => {
      const at = Date.now();
      const path = new URL(req.url ?? '/', 'http://fake').pathname;
      const body = parseBody(Buffer.concat(chunks).toString('utf8'), req.headers['content-type']);
      const responseMatch = /^\/response\/([^/]+)$/.exec(path);
      const method = responseMatch ? 'response_url' : path.replace(/^\/api\//, '');
      const token = bearer(req.headers.authorization) ?? (typeof body.token === 'string' ? body.token : undefined);
      const call: SlackCall = { method, body, token, at, outcome: 'ok', responseId: responseMatch?.[1] };
      calls.push(call);
      await stalled(call);

      if (req.method !== 'POST') return send(res, 405, { ok: false, error: 'method_not_allowed' }, call);
      const fault = faults.get(method)?.shift();
      if (fault) return answerWithFault(res, fault, call);
      if (responseMatch) return send(res, 200, { ok: true }, call);
      const workspaceAnswer = workspaces.answer(method, body, token, req.headers.authorization);
      if (workspaceAnswer) return send(res, 200, workspaceAnswer, call);
      if (!token) return send(res, 200, { ok: false, error: 'not_authed' }, call);
      if (expectedToken !== undefined && token !== expectedToken && !workspaces.knows(token)) {
        return send(res, 200, { ok: false, error: 'invalid_auth' }, call);
      }
      const retryAfter = paceDelay(method, body, at);
      if (retryAfter > 0) return answerWithFault(res, { kind: 'rate_limited', retryAfter }, call);
      return send(res, 200, answer(method, body), call);
    });
  });

  /** Waits out the stall `stallNext` queued for this call's method, if any; close() cuts it short. */
  function stalled(call: SlackCall): Promise<void> {
    const ms = stalls.get(call.method)?.shift();
    if (ms === undefined) return Promise.resolve();
    call.stalledMs = ms;
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        hangs.delete(timer);
        resolve();
      }, ms);
      hangs.add(timer);
    });
  }

  function answerWithFault(res: http.ServerResponse, fault: SlackFault, call: SlackCall): void {
    call.outcome = fault.kind === 'error' ? fault.error : fault.kind;
    switch (fault.kind) {
      case 'http':
        res.writeHead(fault.status, { 'content-type': 'text/html' }).end(`<html><body>${fault.status}</body></html>`);
        return;
      case 'rate_limited':
        res
          .writeHead(429, { 'content-type': 'application/json', 'retry-after': String(fault.retryAfter) })
          .end(JSON.stringify({ ok: false, error: 'ratelimited' }));
        return;
      case 'error':
        send(res, 200, { ok: false, error: fault.error }, call);
        return;
      case 'hang': {
        const timer = setTimeout(() => {
          hangs.delete(timer);
          if (!res.destroyed) res.writeHead(504).end();
        }, fault.ms ?? 10_000);
        hangs.add(timer);
        return;
      }
    }
  }

  /** What Slack answers a well-formed, authorised call; applies it to the fake workspace. */
  function answer(method: string, body: SlackPayload): Record<string, unknown> {
    switch (method) {
      case 'auth.test':
        return {
          ok: true,
          url: 'https://fake.slack.com/',
          team: 'Fake',
          user: 'escalator',
          team_id: 'T0FAKE',
          user_id: 'U0BOT',
        };
      case 'chat.postMessage': {
        if (!body.channel) return { ok: false, error: 'channel_not_found' };
        if (!body.text && !body.blocks) return { ok: false, error: 'no_text' };
        const message: FakeSlackMessage = {
          channel: directMessageChannel(String(body.channel)),
          ts: nextTs(),
          threadTs: body.thread_ts ? String(body.thread_ts) : undefined,
          text: body.text as string | undefined,
          blocks: body.blocks as SlackPayload[] | undefined,
          updates: 0,
        };
        messages.push(message);
        return {
          ok: true,
          channel: message.channel,
          ts: message.ts,
          message: {
            type: 'message',
            text: message.text,
            blocks: message.blocks,
            ts: message.ts,
            thread_ts: message.threadTs,
            bot_id: 'B0FAKE',
          },
        };
      }
      case 'chat.update': {
        const message = messages.find((m) => m.channel === body.channel && m.ts === body.ts);
        if (!message) return { ok: false, error: 'message_not_found' };
        if (!body.text && !body.blocks) return { ok: false, error: 'no_text' };
        message.text = body.text as string | undefined;
        if (body.blocks !== undefined) message.blocks = body.blocks as SlackPayload[];
        message.updates += 1;
        return { ok: true, channel: message.channel, ts: message.ts, text: message.text };
      }
      case 'users.info': {
        const user = String(body.user ?? '');
        const displayName = displayNames.get(user);
        if (displayName === undefined) return { ok: false, error: 'user_not_found' };
        return {
          ok: true,
          user: { id: user, team_id: 'T0FAKE', name: user.toLowerCase(), profile: { display_name: displayName } },
        };
      }
      case 'users.lookupByEmail': {
        const email = String(body.email ?? '').toLowerCase();
        if (!email) return { ok: false, error: 'invalid_arguments' };
        const id = members.get(email);
        if (!id) return { ok: false, error: 'users_not_found' };
        return { ok: true, user: { id, team_id: 'T0FAKE', name: email.split('@')[0], profile: { email } } };
      }
      case 'users.getPresence': {
        if (!body.user) return { ok: false, error: 'user_not_found' };
        return { ok: true, presence: presences.get(String(body.user))?.away ? 'away' : 'active' };
      }
      case 'dnd.info': {
        if (!body.user) return { ok: false, error: 'user_not_found' };
        const nowS = Math.floor(Date.now() / 1000);
        // Quiet hours under way (dnd) or later today (reachable now), as Slack reports another person's.
        const quietNow = !!presences.get(String(body.user))?.dnd;
        return {
          ok: true,
          dnd_enabled: true,
          next_dnd_start_ts: quietNow ? nowS - 600 : nowS + 3_600,
          next_dnd_end_ts: quietNow ? nowS + 3_600 : nowS + 7_200,
        };
      }
      case 'views.open': {
        const view = body.view as SlackPayload | undefined;
        if (!body.trigger_id) return { ok: false, error: 'invalid_trigger_id' };
        if (view?.type !== 'modal' || !Array.isArray(view.blocks)) return { ok: false, error: 'invalid_arguments' };
        return { ok: true, view: { id: `V${nextTs().replace('.', '')}`, ...view } };
      }
      case 'views.publish': {
        if (!body.user_id) return { ok: false, error: 'invalid_arguments' };
        const view = body.view as SlackPayload | undefined;
        if (view?.type !== 'home' || !Array.isArray(view.blocks)) return { ok: false, error: 'invalid_arguments' };
        // Slack: "must provide an array of no more than 100 items" for blocks.
        if (view.blocks.length > 100) return { ok: false, error: 'invalid_arguments' };
        return { ok: true, view: { id: `V${nextTs().replace('.', '')}`, type: 'home', blocks: view.blocks } };
      }
      case 'usergroups.users.update': {
        const id = String(body.usergroup ?? '');
        if (!/^S[A-Z0-9]+$/.test(id)) return { ok: false, error: 'no_such_subteam' };
        const users = String(body.users ?? '')
          .split(',')
          .filter(Boolean);
        // A group cannot be emptied this way: Slack wants at least one user.
        if (users.length === 0) return { ok: false, error: 'invalid_users' };
        usergroups.set(id, users);
        return { ok: true, usergroup: { id, users, user_count: users.length } };
      }
      case 'chat.postEphemeral':
        if (!body.channel) return { ok: false, error: 'channel_not_found' };
        if (!body.user) return { ok: false, error: 'user_not_found' };
        return { ok: true, message_ts: nextTs() };
      case 'conversations.open': {
        const users = String(body.users ?? '')
          .split(',')
          .filter(Boolean);
        if (users.length === 0) return { ok: false, error: 'users_list_not_supplied' };
        // The same people always get the same DM channel, as in Slack.
        return {
          ok: true,
          channel: {
            id: `D${users
              .sort()
              .join('')
              .replace(/[^A-Z0-9]/gi, '')
              .toUpperCase()}`,
          },
        };
      }
      default:
        return { ok: false, error: 'unknown_method' };
    }
  }

  function send(res: http.ServerResponse, status: number, payload: Record<string, unknown>, call: SlackCall): void {
    if (payload.ok === false && call.outcome === 'ok') call.outcome = String(payload.error);
    res.writeHead(status, { 'content-type': 'application/json; charset=utf-8' }).end(JSON.stringify(payload));
  }

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  return {
    url: `${origin}/api/`,
    calls: (method) =>
      calls.filter((call) => method === undefined || call.method === method).map((call) => ({ ...call })),
    setDisplayName(userId, displayName) {
      if (displayName === undefined) displayNames.delete(userId);
      else displayNames.set(userId, displayName);
    },
    addUser(email, userId) {
      members.set(email.toLowerCase(), userId);
    },
    usergroup: (id) => {
      const users = usergroups.get(id);
      return users ? [...users] : undefined;
    },
    setPresence(userId, presence) {
      presences.set(userId, presence);
    },
    failNext(method, fault, times = 1) {
      const queue = faults.get(method) ?? [];
      for (let i = 0; i < times; i += 1) queue.push(fault);
      faults.set(method, queue);
    },
    stallNext(method, ms, times = 1) {
      const queue = stalls.get(method) ?? [];
      for (let i = 0; i < times; i += 1) queue.push(ms);
      stalls.set(method, queue);
    },
    messages: (channel) =>
      messages.filter((m) => channel === undefined || m.channel === channel).map((m) => ({ ...m })),
    message: (channel, ts) => {
      const found = messages.find((m) => m.channel === channel && m.ts === ts);
      return found ? { ...found } : undefined;
    },
    responseUrl: () => `${origin}/response/${randomUUID()}`,
    homeView: (user, teamId) =>
      calls
        .filter((call) => call.method === 'views.publish' && call.outcome === 'ok' && call.body.user_id === user)
        .filter((call) => teamId === undefined || call.token?.startsWith(`xoxb-${teamId}-`))
        .at(-1)?.body.view as SlackPayload | undefined,
    workspaces,
    counts(method) {
      const matching = calls.filter((call) => method === undefined || call.method === method);
      return { calls: matching.length, rateLimited: matching.filter((call) => call.outcome === 'rate_limited').length };
    },
    reset() {
      calls.length = 0;
      messages.length = 0;
      usergroups.clear();
      faults.clear();
      stalls.clear();
      postBuckets = new Map();
      updateBucket = limits ? tokenBucket(limits.updatesPerMinute / 60, limits.updateBurst) : undefined;
    },
    async close() {
      for (const timer of hangs) clearTimeout(timer);
      hangs.clear();
      server.closeAllConnections();
      await new Promise<void>((resolve, reject) => server.close((error) => (error ? reject(error) : resolve())));
    },
  };
}

function bearer(header: string | undefined): string | undefined {
  const match = /^Bearer\s+(\S+)$/i.exec(header ?? '');
  return match?.[1];
}

/** A Slack workspace of the fake: its channels (with members), people, and the app's installs. */
export interface FakeWorkspace {
  teamId: string;
  name: string;
  botUserId: string;
  /** Channel id → name and member user ids (the bot is a member once invited). */
  channels: Map<string, { name: string; members: Set<string> }>;
  /** The bot token of the latest install; earlier ones answer `token_revoked`. */
  botToken?: string;
}

export interface FakeWorkspaces {
  /** Creates a workspace whose `T…` id and bot user id are derived from `name`. */
  add(name: string, channels?: Record<string, { name: string; members: string[] }>): FakeWorkspace;
  /** A one-time OAuth code that oauth.v2.access exchanges for a new bot token of `teamId`. */
  authorize(teamId: string): string;
  /** Puts someone (or the bot) into a channel, or takes them out. */
  join(teamId: string, channel: string, user: string): void;
  leave(teamId: string, channel: string, user: string): void;
  /** A bot token for the workspace without OAuth: what SLACK_BOT_TOKEN holds in single-workspace mode. */
  issueToken(teamId: string): string;
  /** Revokes the workspace's bot token (the app was uninstalled). */
  revoke(teamId: string): void;
  get(teamId: string): FakeWorkspace;
  /** Every bot token ever issued, revoked or not, to search stored data for. */
  issuedTokens(): string[];
  /** The client id and secret that oauth.v2.access accepts. */
  client: typeof FAKE_SLACK_CLIENT;
  /** Whether `token` is a bot token this fake issued (still valid or not). */
  knows(token: string | undefined): boolean;
  /** Answers the workspace-aware methods; undefined leaves the call to the generic answers. */
  answer(
    method: string,
    body: SlackPayload,
    token: string | undefined,
    authorization: string | undefined
  ): Record<string, unknown> | undefined;
}

/** The OAuth client id and secret that the fake's oauth.v2.access accepts (SLACK_CLIENT_ID/SECRET). */
export const FAKE_SLACK_CLIENT = { id: '1111.2222', secret: 'fake-slack-client-secret' } as const;

/**
 * Workspaces for OAuth installs, kept apart from the generic methods above: oauth.v2.access,
 * and auth.test, conversations.info, conversations.members and users.info per bot token.
 */
export function createFakeWorkspaces(): FakeWorkspaces {
  const byTeam = new Map<string, FakeWorkspace>();
  const codes = new Map<string, string>();
  const tokens = new Map<string, { teamId: string; revoked: boolean }>();
  const client = FAKE_SLACK_CLIENT;
  let issued = 0;

  const get = (teamId: string) => {
    const workspace = byTeam.get(teamId);
    if (!workspace) throw new Error(`no fake workspace ${teamId}`);
    return workspace;
  };

  function clientCredentials(body: SlackPayload, authorization: string | undefined): [string?, string?] {
    const basic = /^Basic\s+(\S+)$/i.exec(authorization ?? '');
    if (basic) {
      const [id, secret] = Buffer.from(basic[1]!, 'base64').toString('utf8').split(':');
      return [id, secret];
    }
    return [body.client_id as string | undefined, body.client_secret as string | undefined];
  }

  return {
    client,
    add(name, channels = {}) {
      const slug = name.toUpperCase().replace(/[^A-Z0-9]/g, '');
      const workspace: FakeWorkspace = {
        teamId: `T${slug}`,
        name,
        botUserId: `U${slug}BOT`,
        channels: new Map(
          Object.entries(channels).map(([id, channel]) => [
            id,
            { name: channel.name, members: new Set(channel.members) },
          ])
        ),
      };
      byTeam.set(workspace.teamId, workspace);
      return workspace;
    },
    authorize(teamId) {
      get(teamId);
      const code = `code-${randomUUID()}`;
      codes.set(code, teamId);
      return code;
    },
    join(teamId, channel, user) {
      get(teamId).channels.get(channel)?.members.add(user);
    },
    leave(teamId, channel, user) {
      get(teamId).channels.get(channel)?.members.delete(user);
    },
    issueToken(teamId) {
      const workspace = get(teamId);
      issued += 1;
      workspace.botToken = `xoxb-${teamId}-${issued}-${randomUUID().replace(/-/g, '')}`;
      tokens.set(workspace.botToken, { teamId, revoked: false });
      return workspace.botToken;
    },
    revoke(teamId) {
      for (const entry of tokens.values()) if (entry.teamId === teamId) entry.revoked = true;
      get(teamId).botToken = undefined;
    },
    get,
    issuedTokens: () => [...tokens.keys()],
    knows: (token) => token !== undefined && tokens.has(token),
    answer(method, body, token, authorization) {
      if (method === 'oauth.v2.access') {
        const [id, secret] = clientCredentials(body, authorization);
        if (id !== client.id || secret !== client.secret) return { ok: false, error: 'invalid_client_id' };
        const teamId = codes.get(String(body.code));
        if (!teamId) return { ok: false, error: 'invalid_code' };
        codes.delete(String(body.code));
        const workspace = get(teamId);
        // A reinstall issues a new token; the one before stops working, as when scopes change.
        if (workspace.botToken) tokens.set(workspace.botToken, { teamId, revoked: true });
        issued += 1;
        workspace.botToken = `xoxb-${teamId}-${issued}-${randomUUID().replace(/-/g, '')}`;
        tokens.set(workspace.botToken, { teamId, revoked: false });
        return {
          ok: true,
          app_id: 'A0ESCALATOR',
          authed_user: { id: 'U0INSTALLER' },
          scope: 'chat:write,channels:read,groups:read,users:read,commands',
          token_type: 'bot',
          access_token: workspace.botToken,
          bot_user_id: workspace.botUserId,
          team: { id: teamId, name: workspace.name },
          enterprise: null,
          is_enterprise_install: false,
        };
      }
      const entry = token ? tokens.get(token) : undefined;
      if (!entry) return undefined;
      if (entry.revoked) return { ok: false, error: 'token_revoked' };
      const workspace = get(entry.teamId);
      const channel = workspace.channels.get(String(body.channel));
      switch (method) {
        case 'auth.test':
          return {
            ok: true,
            url: `https://${workspace.name.toLowerCase()}.slack.com/`,
            team: workspace.name,
            user: 'escalator',
            team_id: workspace.teamId,
            user_id: workspace.botUserId,
            bot_id: `B${workspace.botUserId}`,
          };
        case 'conversations.info':
          if (!channel) return { ok: false, error: 'channel_not_found' };
          return {
            ok: true,
            channel: { id: body.channel, name: channel.name, is_member: channel.members.has(workspace.botUserId) },
          };
        case 'conversations.members':
          if (!channel) return { ok: false, error: 'channel_not_found' };
          if (!channel.members.has(workspace.botUserId)) return { ok: false, error: 'not_in_channel' };
          return { ok: true, members: [...channel.members], response_metadata: { next_cursor: '' } };
        case 'users.info':
          return {
            ok: true,
            user: { id: body.user, name: String(body.user).toLowerCase(), team_id: workspace.teamId },
          };
        case 'chat.postMessage':
        case 'chat.update':
          // Posting where the bot is not (removed, or never invited) fails as in Slack.
          if (channel && !channel.members.has(workspace.botUserId)) return { ok: false, error: 'not_in_channel' };
          return undefined;
        default:
          return undefined;
      }
    },
  };
}

/** Form bodies carry nested values (blocks, attachments, metadata) as JSON strings. */
const JSON_FORM_FIELDS = ['blocks', 'attachments', 'metadata', 'replace_original', 'delete_original', 'view'];

function parseBody(raw: string, contentType: string | undefined): SlackPayload {
  if (raw === '') return {};
  if (contentType?.includes('application/json')) {
    try {
      const parsed: unknown = JSON.parse(raw);
      return typeof parsed === 'object' && parsed !== null ? parsed : {};
    } catch {
      return { _unparsed: raw };
    }
  }
  const body: SlackPayload = Object.fromEntries(new URLSearchParams(raw));
  for (const name of JSON_FORM_FIELDS) {
    if (typeof body[name] !== 'string') continue;
    try {
      body[name] = JSON.parse(body[name]);
    } catch {
      // Left as the string Slack would have refused; a test can assert on it.
    }
  }
  return body;
}

/** Slack answers a post to a user id with the id of the DM channel with that user. */
function directMessageChannel(channel: string): string {
  return /^[UW][A-Z0-9]+$/.test(channel) ? `D${channel}` : channel;
}
