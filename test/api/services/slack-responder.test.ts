/** Replies through response_url go to Slack (or the configured stand-in), never anywhere a payload names. */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  createSlackResponder,
  isAllowedResponseUrl,
  ResponseUrlNotAllowedError,
} from '../../../src/api/services/slack-actions';
import { startFakeSlack, type FakeSlack } from '../../helpers/fake-slack';
import { waitFor } from '../../helpers/wait';

describe('isAllowedResponseUrl', () => {
  it.each([
    'https://hooks.slack.com/actions/T0001/123/abc',
    'https://hooks.slack-gov.com/actions/T0001/123/abc',
    'https://slack.com/api/whatever',
  ])('allows %s', (url) => expect(isAllowedResponseUrl(url, 'https://slack.com/api/')).toBe(true));

  it.each([
    'http://hooks.slack.com/actions/T0001/123/abc',
    'https://hooks.slack.com.evil.example/actions/x',
    'https://evilslack.com/actions/x',
    'https://user:pw@hooks.slack.com/actions/x',
    'http://169.254.169.254/latest/meta-data/',
    'http://127.0.0.1:5432/',
    'not a url',
  ])('refuses %s', (url) => expect(isAllowedResponseUrl(url, 'https://slack.com/api/')).toBe(false));

  it('allows the origin of a configured stand-in, and only that origin', () => {
    expect(isAllowedResponseUrl('http://127.0.0.1:4000/response/1', 'http://127.0.0.1:4000/api/')).toBe(true);
    expect(isAllowedResponseUrl('http://127.0.0.1:4001/response/1', 'http://127.0.0.1:4000/api/')).toBe(false);
  });
});

describe('createSlackResponder', () => {
  let slack: FakeSlack;
  let elsewhere: http.Server;
  let elsewhereHits = 0;

  beforeAll(async () => {
    slack = await startFakeSlack();
    elsewhere = http.createServer((_req, res) => {
      elsewhereHits += 1;
      res.end('ok');
    });
    await new Promise<void>((resolve) => elsewhere.listen(0, '127.0.0.1', resolve));
  });

  afterAll(async () => {
    await slack?.close();
    await new Promise((resolve) => elsewhere?.close(resolve));
  });

  test('posts the reply to the stand-in’s response_url', async () => {
    const responseUrl = slack.responseUrl();

    await createSlackResponder({ slackApiUrl: slack.url }).replyEphemeral(responseUrl, 'too late');

    const reply = await waitFor('the reply', () => slack.calls('response_url')[0]);
    expect(reply.body).toMatchObject({ response_type: 'ephemeral', text: 'too late' });
  });

  test('refuses a response_url elsewhere without making any request to it', async () => {
    const { port } = elsewhere.address() as AddressInfo;

    await expect(
      createSlackResponder({ slackApiUrl: slack.url }).replyEphemeral(`http://127.0.0.1:${port}/internal`, 'x')
    ).rejects.toBeInstanceOf(ResponseUrlNotAllowedError);
    expect(elsewhereHits).toBe(0);
  });
});
