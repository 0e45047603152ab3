/**
 * Heartbeat monitors at the scale (issue 23): 10,000 monitors with intervals of 60–300 s,
 * pinged at 500 per second for 30 minutes. Half the monitors are pinged only 1 s before each
 * deadline (a late cron job that still made it: any alert of theirs is a false alert); the other
 * half also take the extra pings that bring the load to the target rate. Some of the first half go
 * silent during the run: each must open its alert within 1 s of its deadline (measured in
 * PostgreSQL, from the deadline the gateway recorded to the alert the intake opened), and its post
 * in Slack is timed too. The pinger is a thread of its own, as another machine would be.
 *
 * BENCH_HEARTBEAT_MONITORS, BENCH_HEARTBEAT_S and BENCH_HEARTBEAT_RATE change the scale (the issue's:
 * 10000, 1800, 500); a smoke run uses 300 monitors of 10–20 s for 45 s at 100 pings per second.
 */
import { Worker } from 'node:worker_threads';
import {
  cpuSplit,
  mapConcurrently,
  percentile,
  record,
  SMOKE,
  startTimedClient,
  totalCpu,
  type BenchContext,
  type BenchTeam,
} from '../harness';

const SCALE = SMOKE
  ? { monitors: 300, seconds: 45, rate: 100, minIntervalS: 10, maxIntervalS: 20, teams: 10 }
  : {
      monitors: Number(process.env.BENCH_HEARTBEAT_MONITORS ?? 10_000),
      seconds: Number(process.env.BENCH_HEARTBEAT_S ?? 1_800),
      rate: Number(process.env.BENCH_HEARTBEAT_RATE ?? 500),
      minIntervalS: 60,
      maxIntervalS: 300,
      teams: 100,
    };

/** Share of the deadline-only monitors that go silent at some point of the run. */
const SILENT_SHARE = 0.04;
/** How long before each deadline the deadline-only monitors are pinged. */
const PING_BEFORE_DEADLINE_MS = 1_000;
/** After the run, how long the bench waits for the last silent monitors' alerts. */
const SETTLE_MS = 5_000;

export const HEARTBEAT_TARGETS = { pingP99Ms: 10, alertP99Ms: 1_000 };

interface PlannedMonitor {
  id: string;
  name: string;
  channel: string;
  url: string;
  intervalMs: number;
  /** Pinged only 1 s before each deadline. */
  deadlineOnly: boolean;
  /** When (ms into the run) it stops pinging, if it does. */
  silentFromMs?: number;
}

/**
 * The pinger, in a thread of its own: each tick it sends the pings that are due (first pings spread
 * over the shortest interval, then 1 s before each deadline) and fills up to the target rate with
 * extra pings of the other monitors. Answers the ping times and, per monitor, whether it went silent.
 */
const PINGER = `
const { parentPort, workerData } = require('node:worker_threads');
const { monitors, durationMs, rate, beforeMs, firstSpreadMs } = workerData;
const start = performance.now();
const latencies = [];
let failed = 0;
let sent = 0;
const outcomes = {};
const state = monitors.map((m) => ({ next: Math.random() * firstSpreadMs, silent: false, pinged: false }));
const extra = monitors.map((m, i) => i).filter((i) => !monitors[i].deadlineOnly);
function ping(i, now) {
  const m = monitors[i];
  state[i].next = now + m.intervalMs - beforeMs;
  sent += 1;
  const sentAt = performance.now();
  fetch(m.url).then(async (answer) => {
    await answer.arrayBuffer();
    latencies.push(performance.now() - sentAt);
    // Only a ping the gateway took makes the monitor active, so only then can its silence be expected to alert.
    if (answer.status === 204) state[i].pinged = true;
    if (answer.status !== 204) { failed += 1; outcomes[answer.status] = (outcomes[answer.status] || 0) + 1; }
  }, (error) => { failed += 1; const key = String(error.cause?.code || error.message); outcomes[key] = (outcomes[key] || 0) + 1; });
}
const timer = setInterval(() => {
  const now = performance.now() - start;
  if (now >= durationMs) {
    clearInterval(timer);
    const stoppedAt = Date.now();
    // The last answers, then the main thread pauses every monitor: the run's end is no silence.
    setTimeout(() => parentPort.postMessage({ latencies, failed, outcomes, sent, stoppedAt, silent: state.map((s) => s.silent) }), 200);
    return;
  }
  for (let i = 0; i < monitors.length; i += 1) {
    const s = state[i];
    if (s.silent || s.next > now) continue;
    const m = monitors[i];
    // Goes silent only where its deadline still falls inside the run, so that its alert is seen.
    if (m.silentFromMs !== undefined && s.pinged && now >= m.silentFromMs && s.next + beforeMs < durationMs - 1000) {
      s.silent = true;
      continue;
    }
    ping(i, now);
  }
  const budget = Math.floor((rate * now) / 1000) - sent;
  for (let k = 0; k < budget && extra.length > 0; k += 1) {
    ping(extra[Math.floor(Math.random() * extra.length)], now);
  }
}, 5);
`;

function runPinger(monitors: PlannedMonitor[], durationMs: number, rate: number, firstSpreadMs: number) {
  const worker = new Worker(PINGER, {
    eval: true,
    workerData: {
      monitors: monitors.map(({ url, intervalMs, deadlineOnly, silentFromMs }) => ({
        url,
        intervalMs,
        deadlineOnly,
        silentFromMs,
      })),
      durationMs,
      rate,
      beforeMs: PING_BEFORE_DEADLINE_MS,
      firstSpreadMs,
    },
  });
  return new Promise<{
    latencies: number[];
    failed: number;
    outcomes: Record<string, number>;
    sent: number;
    stoppedAt: number;
    silent: boolean[];
  }>((resolve, reject) => {
    worker.once('message', (result) => {
      void worker.terminate();
      resolve(result);
    });
    worker.once('error', reject);
  });
}

/** Creates the teams and monitors through the admin API. */
async function planMonitors(bench: BenchContext, seconds: number): Promise<PlannedMonitor[]> {
  const teams: BenchTeam[] = [];
  for (let t = 0; t < SCALE.teams; t += 1) teams.push(await bench.newTeam(`heartbeats-${t}`));
  const monitors: PlannedMonitor[] = new Array(SCALE.monitors);
  await mapConcurrently(SCALE.monitors, 16, async (i) => {
    const team = teams[i % teams.length]!;
    const intervalS = SCALE.minIntervalS + Math.floor(Math.random() * (SCALE.maxIntervalS - SCALE.minIntervalS + 1));
    const name = `job-${i}`;
    const response = await fetch(`${bench.gatewayUrl}/api/heartbeats`, {
      method: 'POST',
      headers: bench.admin,
      body: JSON.stringify({ teamId: team.id, name, interval: `${intervalS}s`, grace: '0s' }),
    });
    if (response.status !== 201)
      throw new Error(`creating monitor ${name}: ${response.status} ${await response.text()}`);
    const created = (await response.json()) as { id: string; pingUrl: string };
    const deadlineOnly = i % 2 === 0;
    const silent = deadlineOnly && Math.random() < SILENT_SHARE * 2;
    monitors[i] = {
      id: created.id,
      name,
      channel: team.channel,
      url: `${bench.gatewayUrl}${new URL(created.pingUrl).pathname}`,
      intervalMs: intervalS * 1000,
      deadlineOnly,
      ...(silent ? { silentFromMs: (0.1 + Math.random() * 0.6) * seconds * 1000 } : {}),
    };
  });
  return monitors;
}

/** Runs the scenario and records its figures. */
export async function measureHeartbeats(bench: BenchContext): Promise<void> {
  const { seconds, rate } = SCALE;
  const monitors = await planMonitors(bench, seconds);
  const byId = new Map(monitors.map((monitor) => [monitor.id, monitor]));
  console.log(`heartbeats: ${monitors.length} monitors created; pinging at ${rate}/s for ${seconds} s`);

  const cpuBefore = bench.cpuByPart();
  const startedAt = Date.now();
  // The same gateway's /healthz, asked every 100 ms from a thread of its own: what any request waited
  // for on this machine meanwhile, the ping's reference.
  const healthz = startTimedClient(
    Array.from({ length: seconds * 10 }, () => ({ url: `${bench.gatewayUrl}/healthz` })),
    100
  );
  const pinged = await runPinger(monitors, seconds * 1000, rate, SCALE.minIntervalS * 1000 - PING_BEFORE_DEADLINE_MS);
  const healthzLatencies = await healthz.stop();
  const wallSeconds = (Date.now() - startedAt) / 1000;
  const cpuAfter = bench.cpuByPart();
  const rss = bench.rssMiB();
  // Pinging stopped with the run: what the monitors do after it is not measured, and must not
  // become thousands of alerts for the scenarios after this one.
  await bench.db
    .$executeRaw`UPDATE heartbeat_monitors SET paused_at = now() WHERE paused_at IS NULL AND name LIKE 'job-%'`;
  await new Promise((resolve) => setTimeout(resolve, SETTLE_MS));

  const silentIds = new Set(monitors.filter((_, i) => pinged.silent[i]).map((monitor) => monitor.id));
  // One row per firing of a monitor's alert: the firing key is the deadline it missed (monitor-alert.ts).
  const firings = await bench.db.$queryRaw<Array<{ id: string; deadline: string; opened: Date }>>`
    SELECT m.id::text AS id, f.firing_key AS deadline, f.first_seen_at AS opened
      FROM heartbeat_monitors m
      JOIN alert_firings f ON f.team_id = m.team_id AND f.fingerprint = 'heartbeat/' || m.id::text
     WHERE m.name LIKE 'job-%'`;
  const mine = firings.filter((row) => byId.has(row.id));
  // A deadline after the pinger stopped is the end of the run, not a late ping.
  const falseAlerts = mine.filter((row) => !silentIds.has(row.id) && Date.parse(row.deadline) < pinged.stoppedAt);
  const silentFirings = mine.filter((row) => silentIds.has(row.id));
  const missed = [...silentIds].filter((id) => !silentFirings.some((row) => row.id === id));
  const openLatencies = silentFirings.map((row) => row.opened.getTime() - Date.parse(row.deadline));

  // The post in the team channel, timed from the same deadline (Slack's pace is one post per second per channel).
  await new Promise((resolve) => setTimeout(resolve, SETTLE_MS));
  const posts = bench.slack.calls('chat.postMessage').filter((call) => !call.body.thread_ts);
  const postLatencies = silentFirings.flatMap((row) => {
    const monitor = byId.get(row.id)!;
    const post = posts.find(
      (call) =>
        call.body.channel === monitor.channel &&
        String(call.body.text).includes(`No heartbeat from ${monitor.name} since`)
    );
    return post ? [post.at - Date.parse(row.deadline)] : [];
  });

  const scale = `${monitors.length} monitors, ${SCALE.minIntervalS}–${SCALE.maxIntervalS} s intervals, ${Math.round(wallSeconds)} s`;
  const pingP99 = percentile(pinged.latencies, 99);
  const achievedRate = Math.round(pinged.sent / wallSeconds);
  record({
    name: `heartbeat ping answered, ${achievedRate} pings/s, ${scale}: p99`,
    value: Math.round(pingP99 * 10) / 10,
    unit: 'ms',
    target: `≤ ${HEARTBEAT_TARGETS.pingP99Ms} ms at ${rate}/s`,
    reference: `/healthz p99 ${Math.round(percentile(healthzLatencies, 99) * 10) / 10} ms meanwhile`,
    ok: pingP99 <= HEARTBEAT_TARGETS.pingP99Ms && pinged.failed === 0 && achievedRate >= rate * 0.95,
    mustHold: pinged.failed === 0,
    note: `${pinged.sent} pings, ${pinged.failed} not answered 204 ${JSON.stringify(pinged.outcomes)}; median ${Math.round(percentile(pinged.latencies, 50) * 10) / 10} ms`,
  });
  const alertP99 = percentile(openLatencies, 99);
  record({
    name: `heartbeat alert opened after the missed deadline, ${silentIds.size} silent monitors: p99`,
    value: Math.round(alertP99),
    unit: 'ms',
    target: `≤ ${HEARTBEAT_TARGETS.alertP99Ms} ms`,
    ok: alertP99 <= HEARTBEAT_TARGETS.alertP99Ms && openLatencies.length > 0,
    note:
      `max ${Math.round(Math.max(0, ...openLatencies))} ms; posted in the team channel: p99 ` +
      `${Math.round(percentile(postLatencies, 99))} ms (${postLatencies.length} posts)`,
  });
  record({
    name: 'heartbeat false alerts (pings 1 s before each deadline)',
    value: falseAlerts.length,
    unit: 'alerts',
    target: '0',
    ok: falseAlerts.length === 0,
    mustHold: falseAlerts.length === 0,
    note: `${monitors.filter((monitor) => monitor.deadlineOnly).length - silentIds.size} monitors pinged only 1 s before their deadlines`,
  });
  record({
    name: 'heartbeat missed alerts (monitors gone silent)',
    value: missed.length,
    unit: 'alerts',
    target: '0',
    ok: missed.length === 0,
    mustHold: missed.length === 0,
    note: `${silentIds.size} monitors went silent`,
  });
  const cpuShare = ((totalCpu(cpuAfter) - totalCpu(cpuBefore)) / wallSeconds) * 100;
  record({
    name: `CPU and memory of the product while monitors are pinged at ${achievedRate}/s`,
    value: Math.round(cpuShare),
    unit: '% of one core',
    note:
      `of 200 % on this machine: ${Math.round(200 - cpuShare)} % left for alerts; ` +
      `${cpuSplit(cpuBefore, cpuAfter, wallSeconds)} per second of run; ` +
      `RSS of gateway + worker ${rss} MiB`,
  });
}
