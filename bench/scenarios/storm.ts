/**
 * A storm's whole life, counted until the product is idle again (issue 29): a burst of new alerts
 * to one channel, every one counted in the channel's digest, then a person presses its Close all,
 * and the product settles. CPU of every process per alert, beside the engine's own cost of a
 * workflow start on the same dev server. (The timing figures of larger storms, against Slack's
 * pace: `npm run bench:storm`.)
 */
import { randomUUID } from 'node:crypto';
import { sqlPoolOf } from '../../src/db/client';
import type { Severity } from '../../src/domain/alert';
import { STORM_ACTIONS_BLOCK_ID } from '../../src/slack/digest-message';
import { blockActionsPayload, signedInteraction } from '../../test/helpers/slack-requests';
import { cpuSplit, mapConcurrently, record, SMOKE, totalCpu, type BenchContext } from '../harness';

/** GoAlert's CPU per new alert on this machine (issue 29: 3.5–4 ms); the target is five times it. */
const GOALERT_CPU_PER_ALERT_MS = 4;
const BURST = SMOKE ? { alerts: 100, perSecond: 50 } : { alerts: 2_000, perSecond: 100 };

/** Waits until `probe` holds, polling; throws with `what` after `timeoutMs`. */
async function until(what: string, probe: () => Promise<boolean> | boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await probe())) {
    if (Date.now() > deadline) throw new Error(`storm: ${what} not within ${timeoutMs / 1000} s`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

/** The engine's CPU for one workflow start (dev server), no worker: the floor under any alert's cost. */
async function engineCpuPerStart({ temporal, cpuByPart }: BenchContext, count: number): Promise<number> {
  const taskQueue = `bench-storm-raw-${randomUUID()}`;
  const before = cpuByPart().temporal;
  await mapConcurrently(count, 16, async () => {
    await temporal.workflow.start('alertWorkflow', { taskQueue, workflowId: `raw/${randomUUID()}`, args: [] });
  });
  return ((cpuByPart().temporal - before) * 1000) / count;
}

export async function measureStormUntilIdle(bench: BenchContext): Promise<void> {
  const { gatewayUrl, slack, db, cpuByPart, signingSecret } = bench;
  const team = await bench.newTeam('storm');
  // What the product burns meanwhile on earlier scenarios' work (other channels' queues draining
  // at Slack's pace): measured first, and taken away from the storm's CPU.
  const background = totalCpu(cpuByPart());
  await new Promise((resolve) => setTimeout(resolve, 5_000));
  const backgroundPerSecond = (totalCpu(cpuByPart()) - background) / 5;
  const partsBefore = cpuByPart();
  const started = Date.now();
  const severities: Severity[] = ['warning', 'info', 'error', 'warning', 'info'];
  let accepted = 0;
  await mapConcurrently(BURST.alerts, 32, async (i) => {
    const due = started + (i * 1000) / BURST.perSecond;
    if (due > Date.now()) await new Promise((resolve) => setTimeout(resolve, due - Date.now()));
    const severity = i % 100 === 0 ? 'critical' : (severities[i % severities.length] as Severity);
    for (;;) {
      const response = await fetch(team.url, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ title: `Storm ${i} on host-${i}`, key: `storm-${i}`, severity }),
      });
      if (response.status === 202) break;
      // Overloaded: sent again after Retry-After, as Alertmanager and SNS do.
      await new Promise((resolve) => setTimeout(resolve, Number(response.headers.get('retry-after') ?? 1) * 1000));
    }
    accepted += 1;
  });
  const sentInS = (Date.now() - started) / 1000;
  console.log(`     storm: ${BURST.alerts} alerts accepted in ${sentInS.toFixed(0)} s`);

  // Every alert counted in the digest (those posted before the storm began have their own message).
  const digestOf = () =>
    slack.messages(team.channel).find((message) => !message.threadTs && message.text?.startsWith('Alert storm'));
  const countedInDigest = () => Number(/(\d+) alerts?/.exec(digestOf()?.text ?? '')?.[1] ?? 0);
  const ownMessages = () =>
    slack.messages(team.channel).filter((m) => !m.threadTs && m.text?.includes('Storm ')).length;
  await until(
    'every alert counted in the digest or posted',
    () => countedInDigest() + ownMessages() >= accepted,
    300_000
  );
  const countedInS = (Date.now() - started) / 1000;
  console.log(`     storm: every alert counted in the digest or posted after ${countedInS.toFixed(0)} s; Close all`);

  // A person closes the storm from the digest.
  const digest = digestOf();
  const value = JSON.stringify(digest?.blocks ?? []).match(/"value":"(storm\/[^"]+)"/)?.[1];
  if (!digest || !value || !JSON.stringify(digest.blocks).includes(STORM_ACTIONS_BLOCK_ID)) {
    throw new Error('storm: the digest carries no Close all button');
  }
  const press = signedInteraction(
    signingSecret,
    blockActionsPayload({ action: 'storm_close', workflowId: value, userId: 'U0BENCH1', channelId: team.channel })
  );
  await fetch(`${gatewayUrl}/slack/interactions`, { method: 'POST', headers: press.headers, body: press.body });
  const open = async () => {
    const { rows } = await sqlPoolOf(db).query<{ open: string }>(
      `SELECT count(*) AS open FROM alerts a JOIN teams t ON t.id = a.team_id
        WHERE t.slack_channel_id = $1 AND a.state IN ('open', 'acknowledged')`,
      [team.channel]
    );
    return Number(rows[0]?.open);
  };
  await until('every alert of the storm closed', async () => (await open()) === 0, 600_000);
  console.log(`     storm: every alert closed after ${((Date.now() - started) / 1000).toFixed(0)} s`);
  // Idle again, for this storm: its channel's queue empty and let go by its pacer (the storm over).
  await until(
    "the storm's channel let go",
    async () => {
      const { rows } = await sqlPoolOf(db).query<{ held: boolean }>(
        `SELECT (pacer_awake_at IS NOT NULL OR storm_since IS NOT NULL OR EXISTS (
            SELECT 1 FROM slack_channel_posts q WHERE q.channel_id = $1 AND q.status = 'waiting')) AS held
           FROM slack_channel_pace WHERE channel_id = $1`,
        [team.channel]
      );
      return rows[0]?.held === false;
    },
    600_000
  );
  const idleAfterS = (Date.now() - started) / 1000;
  const partsAfter = cpuByPart();
  const spent = totalCpu(partsAfter) - totalCpu(partsBefore);
  const backgroundShare = backgroundPerSecond * idleAfterS;
  // A background as large as half of what was spent leaves no figure worth a verdict: the whole
  // CPU is then reported, as a miss, rather than a difference of two noisy numbers.
  const measurable = backgroundShare < spent / 2;
  const perAlert = Math.round(((measurable ? spent - backgroundShare : spent) * 1000) / BURST.alerts);
  const engine = await engineCpuPerStart(bench, SMOKE ? 50 : 500);
  const target = 5 * GOALERT_CPU_PER_ALERT_MS;
  record({
    name: `storm: CPU per new alert until idle (${BURST.alerts} alerts at ${BURST.perSecond}/s, then Close all)`,
    value: perAlert,
    unit: 'ms',
    target: `≤ ${target} ms (5 × GoAlert's ${GOALERT_CPU_PER_ALERT_MS} ms)`,
    reference: `engine alone: ${engine.toFixed(1)} ms per workflow start (dev server)`,
    ok: measurable && perAlert <= target,
    note:
      `${measurable ? '' : 'NOT MEASURABLE (background too large), all CPU counted: '}` +
      `${cpuSplit(partsBefore, partsAfter, BURST.alerts)} before taking away the background ` +
      `${Math.round(backgroundPerSecond * 1000)} ms/s; sent in ${sentInS.toFixed(0)} s, all counted in ` +
      `${countedInS.toFixed(0)} s, its channel let go after ${idleAfterS.toFixed(0)} s`,
  });
}
