/**
 * The open loop: distinct new alerts at an outage's rate whatever the answers take, with a person
 * pressing buttons on another alert at the same time, from a thread of their own.
 */
import { blockActionsPayload, signedInteraction } from '../../test/helpers/slack-requests';
import { percentile, record, SCALE, startTimedClient, TARGETS, type BenchContext, type CpuByPart } from '../harness';

/** Sends `count` requests at a fixed rate whatever the answers take (open loop), as an outage's senders do. */
async function openLoop(count: number, ratePerSecond: number, send: (i: number) => Promise<number>) {
  const latencies: number[] = [];
  const statuses = new Map<number, number>();
  const started = performance.now();
  const inFlight: Array<Promise<void>> = [];
  for (let i = 0; i < count; i++) {
    const due = started + (i * 1000) / ratePerSecond;
    const wait = due - performance.now();
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    inFlight.push(
      (async () => {
        const sentAt = performance.now();
        let status = 0;
        try {
          status = await send(i);
        } catch {
          status = -1;
        }
        latencies.push(performance.now() - sentAt);
        statuses.set(status, (statuses.get(status) ?? 0) + 1);
      })()
    );
  }
  await Promise.all(inFlight);
  return { latencies, statuses };
}

/** Presses signed beforehand (a signature holds 5 minutes), more than the open loop lasts at one per 100 ms. */
const MAX_PRESSES = 1_000;

/** Open loop at an outage's rate, with button presses on another alert at the same time. */
export async function measureOpenLoopWithPresses({
  gatewayUrl,
  signingSecret,
  slack,
  db,
  newTeam,
  allDispatched,
  cpuByPart,
  cpuSecondsOfTree,
}: BenchContext): Promise<{ cpuBefore: number; partsBefore: CpuByPart }> {
  const storm = await newTeam('openloop');
  const pressed = await fetch(storm.url, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ title: 'Pressed during the load', key: 'pressed' }),
  });
  const { workflowId: pressedWorkflow } = (await pressed.json()) as { workflowId: string };
  // Presses come from a thread of their own, as Slack's come from elsewhere: in this thread the
  // open loop's sends and the Slack stand-in's answers would delay them before they leave.
  const presser = startTimedClient(
    Array.from({ length: MAX_PRESSES }, (_, i) => ({
      url: `${gatewayUrl}/slack/interactions`,
      method: 'POST',
      ...signedInteraction(
        signingSecret,
        blockActionsPayload({
          action: i % 2 === 0 ? 'pass' : 'ack',
          workflowId: pressedWorkflow,
          userId: 'U0BENCH1',
          channelId: storm.channel,
          actionTs: `${(Date.now() / 1000).toFixed(6)}${i}`,
        })
      ),
    })),
    100
  );
  const cpuBefore = cpuSecondsOfTree();
  const partsBefore = cpuByPart();
  const openLoopStarted = Date.now();
  const open = await openLoop(SCALE.openLoopCount, SCALE.openLoopRate, async (i) => {
    const response = await fetch(storm.url, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({
        title: `Service ${i} down`,
        key: `svc-${i}`,
        severity: i % 10 === 0 ? 'critical' : 'error',
      }),
    });
    await response.arrayBuffer();
    return response.status;
  });
  const pressLatencies = await presser.stop();
  const accepted = open.statuses.get(202) ?? 0;
  const openErrors = SCALE.openLoopCount - accepted;
  const openP99 = Math.round(percentile(open.latencies, 99));
  record({
    name: `${SCALE.openLoopCount} distinct alerts open-loop at ${SCALE.openLoopRate}/s: accept p99`,
    value: openP99,
    unit: 'ms',
    target: `≤ ${TARGETS.openLoopP99Ms} ms, 0 errors`,
    ok: openP99 <= TARGETS.openLoopP99Ms && openErrors === 0,
    mustHold: openErrors === 0,
    note: `p50 ${Math.round(percentile(open.latencies, 50))} ms, ${openErrors} errors (${JSON.stringify(Object.fromEntries(open.statuses))})`,
  });
  const pressP99 = Math.round(percentile(pressLatencies, 99));
  record({
    name: 'signed button press during that load: p99',
    value: pressP99,
    unit: 'ms',
    target: `≤ ${TARGETS.pressP99Ms} ms`,
    ok: pressP99 <= TARGETS.pressP99Ms,
    note: `${pressLatencies.length} presses, p50 ${Math.round(percentile(pressLatencies, 50))} ms`,
  });
  await allDispatched();
  // Each accepted alert recorded and in its workflow (Slack gets them at the channel's pace: the
  // storm scenario, npm run bench:storm, measures that part).
  const stormTeamName = await db.team.findFirstOrThrow({ where: { slackChannelId: storm.channel } });
  const inWorkflows = await db.intakeEntry.count({
    where: {
      workflowId: { startsWith: `alert/${stormTeamName.name}/svc-` },
      dispatchedAt: { not: null },
      lastError: null,
    },
  });
  const recorded = await db.alert.count({ where: { teamId: stormTeamName.id, fingerprint: { startsWith: 'svc-' } } });
  const allTaken = recorded === accepted && inWorkflows === accepted;
  record({
    name: 'open-loop alerts recorded and in their workflows',
    value: inWorkflows,
    unit: 'in workflows',
    target: `${accepted} (every accepted one)`,
    ok: allTaken,
    mustHold: allTaken,
    note: `${recorded} recorded; all in their workflows ${((Date.now() - openLoopStarted) / 1000).toFixed(1)} s after the first was sent; ${slack.messages(storm.channel).filter((m) => !m.threadTs).length} posted by then`,
  });
  return { cpuBefore, partsBefore };
}

/**
 * `BENCH_ONLY=openloop`: in the full run the open loop meets a warm process (lifecycles and closed
 * loops came first); here a short warm-up does that: alerts opened and pressed once, every code
 * path run once.
 */
export async function warmUpForOpenLoop({ gatewayUrl, signingSecret, newTeam, allDispatched }: BenchContext) {
  const warmUp = await newTeam('warm-up');
  await openLoop(SCALE.openLoopCount / 5, SCALE.openLoopRate / 2, async (i) => {
    const opened = await fetch(warmUp.url, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ title: `Warm-up ${i}`, key: `warm-${i}` }),
    });
    const { workflowId } = (await opened.json()) as { workflowId: string };
    const press = signedInteraction(
      signingSecret,
      blockActionsPayload({ action: 'ack', workflowId, userId: 'U0BENCH1', channelId: warmUp.channel })
    );
    const answer = await fetch(`${gatewayUrl}/slack/interactions`, { method: 'POST', ...press });
    await answer.arrayBuffer();
    return answer.status;
  });
  await allDispatched();
}
