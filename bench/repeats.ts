/**
 * `npx tsx bench/repeats.ts`: the bench's "repeats of one alert" load on its own, against `npm
 * start` (embedded PostgreSQL and Temporal dev server under a throwaway data directory), several
 * times in a row, so that the figure and its spread can be read in a minute. After each run it
 * checks what a user would: the alert's occurrence count (database and workflow) is 1 + every
 * repeat answered 2xx, and says how long the relay took to bring the workflow there.
 *
 * REPEATS_RUNS (default 3) runs of REPEATS_SECONDS (default 15) each, 16 senders.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import autocannon from 'autocannon';
import { Client, Connection } from '@temporalio/client';
import { findFreePort } from '../src/infra/free-port';
import { statusQuery } from '../src/workflows/definitions';
import { startFakeSlack } from '../test/helpers/fake-slack';
import { descendantsOf, killProcessGroup } from '../test/helpers/processes';
import { cpuSecondsOf, startProduct } from './product';

const RUNS = Number(process.env.REPEATS_RUNS ?? 3);
const SECONDS = Number(process.env.REPEATS_SECONDS ?? 15);
const SENDERS = 16;
/** CPU seconds used so far by these processes together. */
function cpuSeconds(pids: number[]): number {
  return pids.reduce((total, pid) => total + cpuSecondsOf(pid), 0);
}

async function main(): Promise<void> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'escalator-repeats-'));
  const slack = await startFakeSlack({ token: 'xoxb-repeats' });
  const adminToken = randomUUID();
  const port = await findFreePort();
  const gatewayUrl = `http://127.0.0.1:${port}`;
  // REPEATS_PROFILE_DIR: the same as `npm start` run under node --cpu-prof, to see where the time goes.
  const profileDir = process.env.REPEATS_PROFILE_DIR;
  const [command, args] = profileDir
    ? ['node', ['--cpu-prof', `--cpu-prof-dir=${profileDir}`, '--import', 'tsx', 'src/main.ts']]
    : ['npm', ['start']];
  const { product, temporalAddress } = await startProduct(
    {
      ESCALATOR_DATA_DIR: path.join(dir, 'data'),
      PORT: String(port),
      TEMPORAL_UI_PORT: String(await findFreePort()),
      SLACK_BOT_TOKEN: 'xoxb-repeats',
      SLACK_API_URL: slack.url,
      SLACK_SIGNING_SECRET: randomUUID(),
      ADMIN_TOKEN: adminToken,
      ESCALATION_TIMEOUT: '1h',
      LOG_LEVEL: 'warn',
    },
    gatewayUrl,
    { command: [command, args] }
  );
  try {
    const temporal = new Client({ connection: await Connection.connect({ address: temporalAddress }) });
    const admin = { Authorization: `Bearer ${adminToken}`, 'Content-Type': 'application/json' };

    for (let run = 1; run <= RUNS; run++) {
      const created = await fetch(`${gatewayUrl}/api/teams`, {
        method: 'POST',
        headers: admin,
        body: JSON.stringify({
          name: `repeats-${run}-${randomUUID().slice(0, 6)}`,
          slackChannelId: `CREP${run}`,
          engineers: ['U0REP1'],
        }),
      });
      const { webhookUrl } = (await created.json()) as { webhookUrl: string };
      const url = `${gatewayUrl}${new URL(webhookUrl).pathname}`;
      const body = JSON.stringify({ title: 'CPU high on web-1', key: 'cpu-web-1' });
      const first = (await (
        await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body })
      ).json()) as { alertId: string; workflowId: string };
      await new Promise((resolve) => setTimeout(resolve, 2_000));

      const processes = descendantsOf(product.pid);
      const groups = {
        node: processes.filter((child) => /src\/main\.ts/.test(child.cmdline)).map((child) => child.pid),
        temporal: processes.filter((child) => /start-dev/.test(child.cmdline)).map((child) => child.pid),
        postgres: processes.filter((child) => /postgres/.test(child.cmdline)).map((child) => child.pid),
      };
      const pids = [product.pid, ...processes.map((child) => child.pid)];
      const cpuBefore = cpuSeconds(pids);
      const groupBefore = Object.fromEntries(Object.entries(groups).map(([name, ids]) => [name, cpuSeconds(ids)]));
      const load = os.loadavg()[0]?.toFixed(2);
      const result = await autocannon({
        url,
        method: 'POST',
        connections: SENDERS,
        duration: SECONDS,
        headers: { 'content-type': 'application/json' },
        body,
      });
      const cpu = cpuSeconds(pids) - cpuBefore;
      const byGroup = Object.entries(groups)
        .map(([name, ids]) => `${name} ${((cpuSeconds(ids) - (groupBefore[name] ?? 0)) / SECONDS).toFixed(2)}`)
        .join(', ');
      const accepted = result['2xx'];
      const loadEnd = Date.now();
      // The alert's count in the database includes answers autocannon stopped waiting for at the end.
      const readAlert = async () =>
        (await (await fetch(`${gatewayUrl}/api/alerts/${first.alertId}`, { headers: admin })).json()) as {
          occurrences: number;
          timeline: unknown[];
        };
      // Answers still on their way when the load stopped.
      await new Promise((resolve) => setTimeout(resolve, 2_000));
      const expected = (await readAlert()).occurrences;
      let occurrences = 0;
      for (;;) {
        const status = await temporal.workflow.getHandle(first.workflowId).query(statusQuery);
        occurrences = status.occurrences;
        if (occurrences >= expected || Date.now() - loadEnd > 120_000) break;
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
      const drainedMs = Date.now() - loadEnd;
      const alert = await readAlert();
      console.log(
        `run ${run}: ${Math.round(accepted / SECONDS)} accepted/s, p50 ${result.latency.p50} ms, p99 ${result.latency.p99} ms, ` +
          `non-2xx ${result.non2xx}, errors ${result.errors + result.timeouts}; product CPU ${(cpu / SECONDS).toFixed(2)} cores (${byGroup}), ${((cpu * 1000) / accepted).toFixed(1)} ms per report; ` +
          `load ${load}; answered 2xx ${1 + accepted}+, database ${alert.occurrences}, workflow ${occurrences} after ${drainedMs} ms; ` +
          `timeline rows ${alert.timeline.length}`
      );
    }
    await temporal.connection.close();
  } finally {
    product.child.kill('SIGINT');
    await Promise.race([product.exited, new Promise((resolve) => setTimeout(resolve, 20_000))]);
    killProcessGroup(product);
    await slack.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
