/**
 * The real senders against a running Escalator: Debian's Alertmanager (and Prometheus once) as
 * plain processes on loopback, posting through a recording relay to the gateway, which runs with
 * a worker, the run's Temporal dev server and PostgreSQL, and the Slack stand-in.
 *
 * What a user would notice: one Slack post per alert of a group; Alertmanager's re-sends (each
 * repeat_interval, each change of the group, each retry of an aborted request) are one firing and
 * are never counted again; a Close while the source still fires stays closed; an Acknowledge
 * answered during an escalation step stops that step. Every wait ends on what it waits for:
 * a notification seen by the relay, a message in the stand-in, an alert's state in the API.
 *
 * Alertmanager's intervals are seconds here (group_wait 1s, group_interval 1s, repeat_interval 2s
 * unless a test says otherwise). Escalation is an hour, unless a test is about escalation.
 */
import { randomBytes } from 'node:crypto';
import { startTestEscalator, type RunningTestEscalator, type TestTeam } from '../helpers/escalator';
import type { FakeSlackMessage } from '../helpers/fake-slack';
import { startNotificationTap, type NotificationTap, type TappedNotification } from '../helpers/notification-tap';
import {
  missingSenders,
  startAlertmanager,
  startPrometheus,
  type AlertmanagerOptions,
  type InjectedAlert,
  type RunningAlertmanager,
} from '../helpers/real-senders';
import { waitFor } from '../helpers/wait';

/** Cap for waits that span a few Alertmanager intervals and the alert's way to Slack: a safety net only. */
const SENDER_CAP_MS = 60_000;

const missing = missingSenders();
if (missing) process.stderr.write(`test/e2e/alertmanager.test.ts skipped: ${missing}\n`);
// The one skip the suite allows: where Debian's packages cannot be installed, there is nothing real to test against.
const describeWithSenders = missing ? describe.skip : describe;

describeWithSenders(`the real Alertmanager and Prometheus${missing ? ` (skipped: ${missing})` : ''}`, () => {
  let escalator: RunningTestEscalator;
  let tap: NotificationTap;
  const started: Array<{ stop(): Promise<void> }> = [];

  beforeAll(async () => {
    escalator = await startTestEscalator({ ESCALATION_TIMEOUT: '1h' });
    tap = await startNotificationTap(escalator.url);
  }, 60_000);

  afterEach(async () => {
    await Promise.all(started.splice(0).map((sender) => sender.stop()));
    // Stalls a test queued and did not use must not slow the next one.
    escalator.slack.reset();
  });

  afterAll(async () => {
    await tap?.close();
    await escalator?.stop();
  });

  /** An Alertmanager whose one receiver posts to the team's endpoint through the relay. */
  async function alertmanagerFor(
    team: TestTeam,
    intervals: Partial<Omit<AlertmanagerOptions, 'webhookUrl'>> = {}
  ): Promise<RunningAlertmanager> {
    const alertmanager = await startAlertmanager({
      webhookUrl: `${tap.url}${team.webhookPath}/alertmanager`,
      groupWait: '1s',
      groupInterval: '1s',
      repeatInterval: '2s',
      ...intervals,
    });
    started.push(alertmanager);
    return alertmanager;
  }

  function alert(labels: Record<string, string>, summary: string, startsAt = new Date()): InjectedAlert {
    return { labels: { severity: 'critical', ...labels }, annotations: { summary }, startsAt };
  }

  /** Notifications to the team's endpoint, in order, that carry `labels` with `status`. */
  function deliveries(team: TestTeam, labels: Record<string, string>, status: 'firing' | 'resolved' = 'firing') {
    return tap
      .notifications()
      .filter((notification) => notification.path.startsWith(team.webhookPath))
      .filter((notification) => carries(notification, labels, status));
  }

  /** Deliveries the gateway took (2xx), whether or not the answer reached Alertmanager. */
  function taken(notifications: TappedNotification[]): TappedNotification[] {
    return notifications.filter((notification) => notification.status !== undefined && notification.status < 300);
  }

  /** Alert messages in the team channel (thread replies left out), oldest first. */
  function alertMessages(team: TestTeam): FakeSlackMessage[] {
    return escalator.slack.messages(team.channel).filter((message) => !message.threadTs);
  }

  /** Everything a reader sees of a message: its notification text and its blocks. */
  function shown(message: FakeSlackMessage | undefined): string {
    return message ? `${message.text ?? ''}\n${JSON.stringify(message.blocks ?? [])}` : '';
  }

  async function messageShowing(team: TestTeam, pattern: RegExp): Promise<FakeSlackMessage> {
    return waitFor(
      `an alert message in ${team.channel} showing ${String(pattern)}`,
      () => alertMessages(team).find((message) => pattern.test(shown(message))),
      SENDER_CAP_MS
    );
  }

  /** The workflow id an alert message's buttons carry, as Slack hands it back on a press. */
  function buttonValue(message: FakeSlackMessage): string {
    const actions = (message.blocks ?? []).find((block) => block.type === 'actions');
    const value = actions?.elements?.[0]?.value;
    if (typeof value !== 'string') throw new Error(`no buttons on ${shown(message)}`);
    return value;
  }

  /**
   * Pages after the first post, as they arrived: a reply in one of the team's threads that mentions
   * someone (`<@U…>`, `<!channel>`, `<!here>`), or a direct message to one of its engineers.
   */
  function pages(team: SenderTeam) {
    return escalator.slack.calls('chat.postMessage').filter((call) => {
      if (team.engineers.some((id) => dmTo(call.body.channel, id))) return true;
      return call.body.channel === team.channel && Boolean(call.body.thread_ts) && MENTION.test(String(call.body.text));
    });
  }

  async function teamAlerts(
    team: TestTeam
  ): Promise<Array<{ id: string; title: string; state: string; occurrences: number }>> {
    const listed = await escalator.get(`/api/alerts?team=${team.name}`, escalator.adminAuth);
    expect(listed.status).toBe(200);
    return listed.body.alerts;
  }

  /** Waits until every alert of the team is in `state`, and there are `count` of them. */
  async function allAlerts(team: TestTeam, count: number, state: string) {
    return waitFor(
      `${count} alert(s) of ${team.name} to be ${state}`,
      async () => {
        const alerts = await teamAlerts(team);
        return alerts.length === count && alerts.every((each) => each.state === state) ? alerts : undefined;
      },
      SENDER_CAP_MS
    );
  }

  async function newTeam(engineers = [slackUserId(), slackUserId()], escalationTimeout?: string): Promise<SenderTeam> {
    return { ...(await escalator.createTeam({ prefix: 'am', engineers, escalationTimeout })), engineers };
  }

  test('a group of three is one notification and three posts; the group growing posts only the new alert', async () => {
    const team = await newTeam();
    const alertmanager = await alertmanagerFor(team);
    const disks = ['db-1', 'db-2', 'db-3'].map((instance) =>
      alert({ alertname: 'DiskFull', instance }, `Disk full on ${instance}`)
    );

    await alertmanager.fire(...disks);

    await waitFor('three alert messages', () => alertMessages(team).length === 3, SENDER_CAP_MS);
    const [first] = taken(deliveries(team, { instance: 'db-1' }));
    expect(first?.body.alerts.map((each: { labels: { instance: string } }) => each.labels.instance).sort()).toEqual([
      'db-1',
      'db-2',
      'db-3',
    ]);
    expect(
      alertMessages(team)
        .map((message) => /Disk full on (db-\d)/.exec(shown(message))?.[1])
        .sort()
    ).toEqual(['db-1', 'db-2', 'db-3']);

    // The group changes: Alertmanager sends all four, three of them again.
    const fourth = alert({ alertname: 'DiskFull', instance: 'db-4' }, 'Disk full on db-4');
    await alertmanager.fire(fourth);
    await messageShowing(team, /Disk full on db-4/);
    await waitFor(
      'the gateway to take db-1 again',
      () => taken(deliveries(team, { instance: 'db-1' })).length >= 2,
      SENDER_CAP_MS
    );

    // Resolving each firing is the barrier: its re-sends were taken before it, in order.
    await alertmanager.resolve(...disks, fourth);
    const alerts = await allAlerts(team, 4, 'resolved');
    expect(alerts.map((each) => each.occurrences)).toEqual([1, 1, 1, 1]);
    expect(alertMessages(team)).toHaveLength(4);
    expect(pages(team)).toEqual([]);
  }, 120_000);

  test("repeat_interval's re-sends of a firing alert are not counted", async () => {
    const team = await newTeam();
    const alertmanager = await alertmanagerFor(team);
    const backlog = alert({ alertname: 'QueueBacklog', queue: 'emails' }, 'Queue backlog on emails');

    await alertmanager.fire(backlog);
    await messageShowing(team, /Queue backlog on emails/);
    await waitFor(
      'the gateway to take two re-sends',
      () => taken(deliveries(team, backlog.labels)).length >= 3,
      SENDER_CAP_MS
    );
    await alertmanager.resolve(backlog);

    const [resolved] = await allAlerts(team, 1, 'resolved');
    expect(resolved?.occurrences).toBe(1);
    expect(alertMessages(team)).toHaveLength(1);
    expect(shown(alertMessages(team)[0])).not.toMatch(/×\d/);
  }, 120_000);

  test('one alert of a group resolves; the other stays open and is not posted again', async () => {
    const team = await newTeam();
    const alertmanager = await alertmanagerFor(team);
    const [api1, api2] = ['api-1', 'api-2'].map((instance) =>
      alert({ alertname: 'HighLatency', instance }, `p99 latency above 2s on ${instance}`)
    );

    await alertmanager.fire(api1!, api2!);
    await waitFor('two alert messages', () => alertMessages(team).length === 2, SENDER_CAP_MS);
    await alertmanager.resolve(api1!);

    await messageShowing(team, /api-1[\s\S]*\*resolved\*/);
    const alerts = await waitFor(
      'api-1 resolved, api-2 open',
      async () => {
        const all = await teamAlerts(team);
        const state = (instance: string) => all.find((each) => each.title.includes(instance))?.state;
        return state('api-1') === 'resolved' && state('api-2') === 'open' ? all : undefined;
      },
      SENDER_CAP_MS
    );
    // The notification that resolved api-1 carried api-2 firing again.
    await waitFor(
      'the gateway to take api-2 again',
      () => taken(deliveries(team, api2!.labels)).length >= 2,
      SENDER_CAP_MS
    );
    expect(alerts).toHaveLength(2);
    const api2Message = alertMessages(team).find((message) => shown(message).includes('api-2'));
    expect(shown(api2Message)).not.toMatch(/\*resolved\*/);
    expect(buttonValue(api2Message!)).toBeTruthy();
    expect(alertMessages(team)).toHaveLength(2);

    await alertmanager.resolve(api2!);
    expect((await allAlerts(team, 2, 'resolved')).map((each) => each.occurrences)).toEqual([1, 1]);
    expect(alertMessages(team)).toHaveLength(2);
  }, 120_000);

  test('a notification whose answer was lost is sent again by Alertmanager and counted once', async () => {
    const team = await newTeam();
    // No repeats: every delivery after the first is Alertmanager retrying the aborted one.
    const alertmanager = await alertmanagerFor(team, { repeatInterval: '1h' });
    const certificate = alert({ alertname: 'CertificateExpiring', host: 'shop' }, 'Certificate of shop expires soon');

    tap.loseNextAnswers(1);
    await alertmanager.fire(certificate);

    const [lost, retried] = await waitFor(
      'Alertmanager to send the notification again',
      () => {
        const sent = deliveries(team, certificate.labels);
        return sent.length >= 2 && sent[1]?.status !== undefined ? sent : undefined;
      },
      SENDER_CAP_MS
    );
    expect(lost).toMatchObject({ answerLost: true, status: expect.any(Number) });
    expect(lost!.status).toBeLessThan(300);
    expect(retried).toMatchObject({ answerLost: false });
    expect(retried!.status).toBeLessThan(300);
    expect(retried!.body.alerts).toEqual(lost!.body.alerts);
    await messageShowing(team, /Certificate of shop expires soon/);

    await alertmanager.resolve(certificate);
    const [resolved] = await allAlerts(team, 1, 'resolved');
    expect(resolved?.occurrences).toBe(1);
    expect(alertMessages(team)).toHaveLength(1);
  }, 120_000);

  test('Close while the source still fires: its re-sends post nothing and page nobody; a new firing opens a new alert', async () => {
    const team = await newTeam();
    const alertmanager = await alertmanagerFor(team);
    const labels = { alertname: 'ReplicationLag', instance: 'db-2' };
    const firstFiring = alert(labels, 'Replication lag on db-2 (firing 1)');

    await alertmanager.fire(firstFiring);
    const posted = await messageShowing(team, /Replication lag on db-2 \(firing 1\)/);
    const [alice] = team.engineers;
    expect(
      await escalator.press({ action: 'close', workflowId: buttonValue(posted), userId: alice!, userName: 'alice' })
    ).toBe(200);
    await messageShowing(team, /\(firing 1\)[\s\S]*closed/);
    const closedAt = Date.now();

    await waitFor(
      'the gateway to take two re-sends of the closed firing',
      () => taken(deliveries(team, labels)).filter((notification) => notification.at > closedAt).length >= 2,
      SENDER_CAP_MS
    );
    // The source stops firing, then fires again: a new firing, told apart here by its summary.
    await alertmanager.resolve(firstFiring);
    await waitFor(
      'the resolution to be taken',
      () => taken(deliveries(team, labels, 'resolved')).length >= 1,
      SENDER_CAP_MS
    );
    await alertmanager.fire(alert(labels, 'Replication lag on db-2 (firing 2)'));

    // Reports of one fingerprint are handled in order: once the new firing is posted, every re-send was handled.
    await messageShowing(team, /\(firing 2\)/);
    const messages = alertMessages(team);
    expect(messages.map((message) => /\(firing (\d)\)/.exec(shown(message))?.[1])).toEqual(['1', '2']);
    expect(shown(messages[0])).toMatch(/closed/);
    expect(pages(team)).toEqual([]);
    const alerts = await waitFor(
      'the new firing to be an open alert',
      async () => {
        const all = await teamAlerts(team);
        return all.some((each) => each.state === 'open') ? all : undefined;
      },
      SENDER_CAP_MS
    );
    expect(alerts.map((each) => [each.state, each.occurrences]).sort()).toEqual([
      ['closed', 1],
      ['open', 1],
    ]);
  }, 120_000);

  test('an Acknowledge answered while Slack is slow during an escalation step stops that step', async () => {
    const [alice, bob] = [slackUserId(), slackUserId()];
    // Long enough that the stalls are in place before the step begins, even on a loaded machine.
    const team = await newTeam([alice, bob], '4s');
    // No re-sends: the only Slack calls after the post are the escalation step's and the ack's.
    const alertmanager = await alertmanagerFor(team, { repeatInterval: '1h' });

    await alertmanager.fire(alert({ alertname: 'PaymentsDown', region: 'eu' }, 'Payments failing in eu'));
    const posted = await messageShowing(team, /Payments failing in eu/);

    // Slack answers every call of the escalation step slowly (under the client's 3-second timeout).
    const armedAt = Date.now();
    for (const method of ['chat.update', 'chat.postMessage', 'conversations.open'])
      escalator.slack.stallNext(method, 1_500, 10);
    await waitFor(
      'the escalation step to begin',
      () =>
        escalator.slack
          .calls()
          // The step's first Slack call, whichever it is, names Bob: the message, the mention or the DM.
          .some(
            (call) => call.stalledMs !== undefined && call.at >= armedAt && JSON.stringify(call.body).includes(bob)
          ),
      SENDER_CAP_MS
    );
    expect(
      await escalator.press({ action: 'ack', workflowId: buttonValue(posted), userId: alice, userName: 'alice' })
    ).toBe(200);
    const ackAnsweredAt = Date.now();

    await waitFor(
      'the message to show the acknowledgement',
      () => /acknowledged/i.test(shown(alertMessages(team)[0])),
      SENDER_CAP_MS
    );
    const pagedAfterAck = pages(team)
      .filter((call) => call.at > ackAnsweredAt)
      .map((call) => `${String(call.body.channel)}: ${String(call.body.text)}`);
    expect(pagedAfterAck).toEqual([]);
    expect(shown(alertMessages(team)[0])).toContain('alice');
  }, 120_000);

  test('Prometheus → Alertmanager → Escalator: a rule that fires is one alert, and resolves when the rule stops', async () => {
    const team = await newTeam();
    const alertmanager = await alertmanagerFor(team);
    const rule = (expr: string) =>
      [
        '      - alert: AlwaysFiring',
        `        expr: ${expr}`,
        '        labels: { severity: warning }',
        "        annotations: { summary: 'Always firing, from Prometheus' }",
      ].join('\n');
    const prometheus = await startPrometheus({ alertmanagerUrl: alertmanager.url, rules: rule('vector(1) > 0') });
    started.push(prometheus);

    const posted = await messageShowing(team, /Always firing, from Prometheus/);
    expect(shown(posted)).toContain('AlwaysFiring');
    await waitFor(
      'the gateway to take two re-sends',
      () => taken(deliveries(team, { alertname: 'AlwaysFiring' })).length >= 3,
      SENDER_CAP_MS
    );
    prometheus.reloadRules(rule('vector(1) < 0'));

    const [resolved] = await allAlerts(team, 1, 'resolved');
    expect(resolved).toMatchObject({ title: 'Always firing, from Prometheus', occurrences: 1 });
    expect(alertMessages(team)).toHaveLength(1);
    expect(pages(team)).toEqual([]);
  }, 120_000);
});

/** Whether a notification carries an alert with all of `labels` in `status`. */
function carries(notification: TappedNotification, labels: Record<string, string>, status: string): boolean {
  const alerts: Array<{ status: string; labels: Record<string, string> }> = notification.body?.alerts ?? [];
  return alerts.some(
    (each) => each.status === status && Object.entries(labels).every(([name, value]) => each.labels[name] === value)
  );
}

/** What makes Slack notify someone: a user mention or a channel-wide one. */
const MENTION = /<@[UW][A-Z0-9]+>|<!channel>|<!here>|<!everyone>/;

/** A team with the engineers it was created with. */
type SenderTeam = TestTeam & { engineers: string[] };

/** A random Slack user id, so that one test's direct messages are told apart from another's. */
function slackUserId(): string {
  return `U0${randomBytes(5).toString('hex').toUpperCase()}`;
}

/** Whether a chat.postMessage channel is a direct message to `userId` (the user id, or the stand-in's `D<id>`). */
function dmTo(channel: unknown, userId: string): boolean {
  return channel === userId || channel === `D${userId}`;
}
