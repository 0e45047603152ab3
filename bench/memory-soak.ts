/**
 * `npm run bench:memory`: the RSS of `npm start`'s Node process (gateway + worker) with open alerts,
 * over a soak, alone, without the rest of the bench. Starts `npm start` on its own data directory
 * and ports against the local Slack stand-in, opens SOAK_ALERTS alerts (16 senders) spread over
 * SOAK_CHANNELS channels, then samples /proc/<pid>/status VmRSS (and its anonymous and file-backed
 * parts) every 10 s for SOAK_SECONDS. Where the memory is inside the process: docs/performance.md, "Memory".
 *
 *   SOAK_CHANNELS=10 SOAK_ALERTS=1000 SOAK_SECONDS=600 npm run bench:memory
 *
 * Any other variable (MALLOC_ARENA_MAX, NODE_OPTIONS …) passes through to `npm start`.
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { findFreePort } from '../src/infra/free-port';
import { startFakeSlack } from '../test/helpers/fake-slack';
import { descendantsOf, removeNpmStartDataDir } from '../test/helpers/processes';
import { startProduct, stopOnExit, type Teardown } from './product';

const CHANNELS = Number(process.env.SOAK_CHANNELS ?? 10);
const ALERTS = Number(process.env.SOAK_ALERTS ?? 1000);
const SOAK_SECONDS = Number(process.env.SOAK_SECONDS ?? 600);
const SENDERS = 16;
const SAMPLE_MS = 10_000;

function memoryOf(pid: number): { rss: number; anon: number; file: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kib = (field: string) => Number(new RegExp(`${field}:\\s+(\\d+)`).exec(status)?.[1] ?? 0);
  return {
    rss: Math.round(kib('VmRSS') / 1024),
    anon: Math.round(kib('RssAnon') / 1024),
    file: Math.round(kib('RssFile') / 1024),
  };
}

async function main(teardown: Teardown): Promise<void> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'escalator-soak-'));
  teardown.add('the soak directory', () => rmSync(dir, { recursive: true, force: true }));
  teardown.add("npm start's data directory", () => removeNpmStartDataDir(path.join(dir, 'data')));
  const slack = await startFakeSlack({ token: 'xoxb-soak' });
  teardown.add('the Slack stand-in', () => slack.close());
  const port = await findFreePort();
  const gatewayUrl = `http://127.0.0.1:${port}`;
  const adminToken = randomUUID();
  const { product } = await startProduct(
    {
      ...(process.env as Record<string, string>),
      ESCALATOR_DATA_DIR: path.join(dir, 'data'),
      PORT: String(port),
      TEMPORAL_UI_PORT: String(await findFreePort()),
      SLACK_BOT_TOKEN: 'xoxb-soak',
      SLACK_API_URL: slack.url,
      SLACK_SIGNING_SECRET: randomUUID(),
      ADMIN_TOKEN: adminToken,
      ESCALATION_TIMEOUT: '1h',
      LOG_LEVEL: 'warn',
    },
    gatewayUrl,
    { teardown }
  );
  try {
    const node = descendantsOf(product.pid).find((p) => /node .*src\/main\.ts/.test(p.cmdline))!.pid;
    const started = Date.now();
    const log = (what: string) => {
      const m = memoryOf(node);
      console.log(
        `${String(Math.round((Date.now() - started) / 1000)).padStart(4)} s  RSS ${m.rss} MiB (anon ${m.anon}, file ${m.file})  ${what}`
      );
      return m.rss;
    };
    log('ready');
    const admin = { Authorization: `Bearer ${adminToken}`, 'Content-Type': 'application/json' };
    const urls: string[] = [];
    for (let c = 0; c < CHANNELS; c++) {
      const response = await fetch(`${gatewayUrl}/api/teams`, {
        method: 'POST',
        headers: admin,
        body: JSON.stringify({
          name: `soak-${c}-${randomUUID().slice(0, 6)}`,
          slackChannelId: `CSOAK${c}${randomUUID().slice(0, 4).toUpperCase()}`,
          engineers: ['U0SOAK1', 'U0SOAK2'],
        }),
      });
      const { webhookUrl } = (await response.json()) as { webhookUrl: string };
      urls.push(`${gatewayUrl}${new URL(webhookUrl).pathname}`);
    }
    let next = 0;
    const statuses: Record<number, number> = {};
    await Promise.all(
      Array.from({ length: SENDERS }, async () => {
        while (next < ALERTS) {
          const i = next++;
          const response = await fetch(urls[i % CHANNELS]!, {
            method: 'POST',
            headers: { 'Content-Type': 'application/json' },
            body: JSON.stringify({ title: `Service ${i} down`, key: `soak-${i}`, severity: 'critical' }),
          });
          await response.arrayBuffer();
          statuses[response.status] = (statuses[response.status] ?? 0) + 1;
        }
      })
    );
    const samples = [log(`sent ${ALERTS} alerts over ${CHANNELS} channels: ${JSON.stringify(statuses)}`)];
    const soakEnd = Date.now() + SOAK_SECONDS * 1000;
    while (Date.now() < soakEnd) {
      await new Promise((resolve) => setTimeout(resolve, SAMPLE_MS));
      samples.push(log(`slack posts ${slack.calls().filter((c) => c.method === 'chat.postMessage').length}`));
    }
    console.log(
      `${ALERTS} alerts over ${CHANNELS} channels, ${SOAK_SECONDS} s: RSS first ${samples[0]} MiB, peak ${Math.max(...samples)} MiB, last ${samples.at(-1)} MiB`
    );
  } finally {
    await teardown.run();
  }
}

const teardown = stopOnExit();
main(teardown).catch(async (error: unknown) => {
  console.error(error);
  await teardown.run();
  process.exit(1);
});
