/**
 * The Temporal dev server of `npm start`: it gets none of Escalator's secrets in its environment,
 * its Web UI answers only requests that name this machine (a DNS-rebinding page sends its own
 * Host), and its SQLite database is readable by its owner only.
 */
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { startDevServer, type RunningDevServer } from '../../src/infra/dev-server';
import { findFreePort } from '../../src/infra/free-port';
import { resolveTemporalBinary } from '../../src/infra/temporal-binaries';
import { createLogger } from '../../src/logger';

const SECRETS = {
  SLACK_BOT_TOKEN: 'xoxb-dev-server-must-not-see-this',
  SLACK_SIGNING_SECRET: 'signing-secret-must-not-leak',
  SLACK_CLIENT_SECRET: 'client-secret-must-not-leak',
  SLACK_STATE_SECRET: 'state-secret-must-not-leak',
  ADMIN_TOKEN: 'admin-token-must-not-leak',
  ENCRYPTION_KEY: 'encryption-key-must-not-leak',
};

let dataDir: string;
let server: RunningDevServer;
let uiPort: number;

beforeAll(async () => {
  dataDir = mkdtempSync(path.join(os.tmpdir(), 'escalator-dev-server-'));
  const cli = await resolveTemporalBinary('cli', process.env, () => undefined);
  if (cli.type !== 'existing-path')
    throw new Error('the Temporal CLI is not fetched (npx tsx src/infra/temporal-binaries.ts)');
  uiPort = await findFreePort();
  const saved = { ...process.env };
  Object.assign(process.env, SECRETS);
  try {
    server = await startDevServer({
      cliPath: cli.path,
      dbFilename: path.join(dataDir, 'temporal.db'),
      logFile: path.join(dataDir, 'temporal-dev-server.log'),
      namespace: 'default',
      uiPort,
      searchAttributes: [],
      // Its stop logs the server's own complaints about being stopped: not this test's business.
      log: createLogger({ level: 'error', destination: new Writable({ write: (_chunk, _encoding, done) => done() }) }),
    });
  } finally {
    for (const name of Object.keys(SECRETS)) {
      if (saved[name] === undefined) delete process.env[name];
      else process.env[name] = saved[name];
    }
  }
}, 90_000);

afterAll(async () => {
  await server?.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

function getUi(host: string, headers: Record<string, string> = {}, urlPath = '/'): Promise<number> {
  return new Promise((resolve, reject) => {
    http
      .get({ host: '127.0.0.1', port: uiPort, path: urlPath, headers: { Host: host, ...headers } }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      })
      .on('error', reject);
  });
}

test("the dev server's environment holds none of Escalator's secrets", () => {
  const environ = readFileSync(`/proc/${server.pid}/environ`, 'utf8').split('\0');

  for (const [name, value] of Object.entries(SECRETS)) {
    expect(environ.filter((entry) => entry.startsWith(`${name}=`) || entry.includes(value))).toEqual([]);
  }
  expect(environ.some((entry) => entry.startsWith('PATH='))).toBe(true);
});

test('the Web UI refuses a Host or Origin that is not this machine (DNS rebinding) and serves localhost', async () => {
  expect(await getUi(`attacker.example:${uiPort}`)).toBe(403);
  expect(await getUi(`localhost:${uiPort}`, { Origin: 'http://attacker.example' })).toBe(403);
  expect(await getUi(`localhost:${uiPort + 1}`)).toBe(403);

  expect(await getUi(`localhost:${uiPort}`)).toBe(200);
  // The UI's own API, which its pages call, answers through the check as well.
  expect(await getUi(`localhost:${uiPort}`, {}, '/api/v1/namespaces/default/workflows')).toBe(200);
  expect(await getUi(`127.0.0.1:${uiPort}`, { Origin: `http://127.0.0.1:${uiPort}` })).toBe(200);
  expect(server.uiUrl).toBe(`http://localhost:${uiPort}`);
});

test('temporal.db is created readable by its owner only', () => {
  expect(statSync(path.join(dataDir, 'temporal.db')).mode & 0o777).toBe(0o600);
});
