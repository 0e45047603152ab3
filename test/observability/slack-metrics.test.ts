/**
 * Slack calls are counted by method and outcome, as @slack/web-api really fails: a local HTTP
 * server answers like the Slack Web API (ok, platform error, 429 with Retry-After, too slow).
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { LogLevel, WebClient } from '@slack/web-api';
import { createMetrics, type Metrics } from '../../src/observability/metrics';
import { instrumentSlackApi } from '../../src/observability/slack-metrics';
import type { SlackApi } from '../../src/slack/client';

/** Channels that make the stand-in answer one way or another. */
const CHANNEL = { ok: 'C0K', gone: 'C0GONE', limited: 'C0LIMITED', slow: 'C0SLOW' };
const CLIENT_TIMEOUT_MS = 300;

let slackStandIn: http.Server;
let slackApiUrl: string;
const slowAnswers = new Set<NodeJS.Timeout>();

beforeAll(async () => {
  slackStandIn = http.createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => (body += chunk));
    req.on('end', () => {
      const params = new URLSearchParams(body);
      const json = (status: number, payload: object, headers: Record<string, string> = {}) =>
        res.writeHead(status, { 'Content-Type': 'application/json', ...headers }).end(JSON.stringify(payload));
      const channel = params.get('channel');
      if (req.url === '/api/conversations.open') return json(200, { ok: true, channel: { id: 'D0DM' } });
      if (channel === CHANNEL.gone) return json(200, { ok: false, error: 'channel_not_found' });
      if (channel === CHANNEL.limited) return json(429, { ok: false, error: 'ratelimited' }, { 'Retry-After': '7' });
      const answer = () => json(200, { ok: true, channel, ts: '1700000000.000100' });
      if (channel === CHANNEL.slow) slowAnswers.add(setTimeout(answer, CLIENT_TIMEOUT_MS * 4));
      else answer();
    });
  });
  await new Promise<void>((resolve) => slackStandIn.listen(0, '127.0.0.1', resolve));
  slackApiUrl = `http://127.0.0.1:${(slackStandIn.address() as AddressInfo).port}/api/`;
});

afterAll(async () => {
  slowAnswers.forEach(clearTimeout);
  slackStandIn.closeAllConnections();
  await new Promise((resolve) => slackStandIn.close(resolve));
});

/** A SlackApi over @slack/web-api configured for activities as FACTS.md says: no retries, no queueing. */
function webApiSlack(): SlackApi {
  const client = new WebClient('xoxb-test', {
    slackApiUrl,
    timeout: CLIENT_TIMEOUT_MS,
    retryConfig: { retries: 0 },
    rejectRateLimitedCalls: true,
    logLevel: LogLevel.ERROR,
  });
  return {
    async postMessage({ channel, text, threadTs }) {
      const result = await client.chat.postMessage({ channel, text, thread_ts: threadTs });
      return { channel: result.channel ?? channel, ts: result.ts ?? '' };
    },
    async updateMessage({ channel, ts, text }) {
      await client.chat.update({ channel, ts, text });
    },
    async updateUsergroupUsers({ usergroupId, users }) {
      await client.usergroups.users.update({ usergroup: usergroupId, users: users.join(',') });
    },
  };
}

function sample(text: string, series: string): number | undefined {
  const line = text.split('\n').find((candidate) => candidate.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

async function slackCalls(metrics: Metrics, method: string, outcome: string): Promise<number | undefined> {
  return sample(
    await metrics.registry.metrics(),
    `escalator_slack_calls_total{method="${method}",outcome="${outcome}"}`
  );
}

describe('instrumentSlackApi', () => {
  it('counts successful calls by Slack method', async () => {
    const metrics = createMetrics(undefined, { defaultMetrics: false });
    const slack = instrumentSlackApi(webApiSlack(), metrics);

    await slack.postMessage({ channel: CHANNEL.ok, text: 'disk full' });
    await slack.updateMessage({ channel: CHANNEL.ok, ts: '1700000000.000100', text: 'disk full (acknowledged)' });

    expect(await slackCalls(metrics, 'chat.postMessage', 'ok')).toBe(1);
    expect(await slackCalls(metrics, 'chat.update', 'ok')).toBe(1);
  });

  it('counts a 429 as rate_limited and still hands the caller Retry-After', async () => {
    const metrics = createMetrics(undefined, { defaultMetrics: false });
    const slack = instrumentSlackApi(webApiSlack(), metrics);

    await expect(slack.postMessage({ channel: CHANNEL.limited, text: 'disk full' })).rejects.toMatchObject({
      retryAfter: 7,
    });

    expect(await slackCalls(metrics, 'chat.postMessage', 'rate_limited')).toBe(1);
    expect(await slackCalls(metrics, 'chat.postMessage', 'error')).toBeUndefined();
  });

  it('counts a call Slack did not answer in time as timeout', async () => {
    const metrics = createMetrics(undefined, { defaultMetrics: false });
    const slack = instrumentSlackApi(webApiSlack(), metrics);

    await expect(slack.postMessage({ channel: CHANNEL.slow, text: 'disk full' })).rejects.toThrow();

    expect(await slackCalls(metrics, 'chat.postMessage', 'timeout')).toBe(1);
  });

  it('counts a refusal such as channel_not_found as error', async () => {
    const metrics = createMetrics(undefined, { defaultMetrics: false });
    const slack = instrumentSlackApi(webApiSlack(), metrics);

    await expect(slack.postMessage({ channel: CHANNEL.gone, text: 'disk full' })).rejects.toThrow(/channel_not_found/);

    expect(await slackCalls(metrics, 'chat.postMessage', 'error')).toBe(1);
  });

  it('counts calls made by a retried activity attempt as retries', async () => {
    const metrics = createMetrics(undefined, { defaultMetrics: false });
    const firstAttempt = instrumentSlackApi(webApiSlack(), metrics, { attempt: () => 1 });
    const thirdAttempt = instrumentSlackApi(webApiSlack(), metrics, { attempt: () => 3 });

    await firstAttempt.postMessage({ channel: CHANNEL.ok, text: 'disk full' });
    await thirdAttempt.postMessage({ channel: CHANNEL.ok, text: 'disk full' });
    const text = await metrics.registry.metrics();

    expect(sample(text, 'escalator_slack_calls_total{method="chat.postMessage",outcome="ok"}')).toBe(2);
    expect(sample(text, 'escalator_slack_retries_total{method="chat.postMessage"}')).toBe(1);
  });
});
