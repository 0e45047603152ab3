/**
 * Production start on a database that `npm run migrate` has not prepared: `npm run api` and
 * `npm run worker` refuse with one line that says what to run, and do so again until it has run.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { findFreePort } from '../../src/infra/free-port';
import { createFreshDatabase, type FreshDatabase } from '../db/fresh-database';
import { exitWithin, killProcessGroup, PROJECT_ROOT, runCommand, type RunningCommand } from '../helpers/processes';
import { waitFor } from '../helpers/wait';

const run = promisify(execFile);

let fresh: FreshDatabase;
const started: RunningCommand[] = [];

beforeAll(async () => {
  fresh = await createFreshDatabase('escalator_unmigrated');
});

afterAll(async () => {
  for (const command of started) killProcessGroup(command);
  await fresh?.drop();
});

async function start(script: 'api' | 'worker'): Promise<RunningCommand> {
  const command = runCommand('npm', ['run', '--silent', script], {
    TEMPORAL_ADDRESS: process.env.TEMPORAL_ADDRESS,
    DATABASE_URL: fresh.url,
    PORT: String(await findFreePort()),
    METRICS_PORT: String(await findFreePort()),
    TEMPORAL_METRICS_PORT: String(await findFreePort()),
    LOG_LEVEL: 'info',
  });
  started.push(command);
  return command;
}

test.each(['api', 'worker'] as const)(
  'npm run %s on an unmigrated database exits 1 with one line naming npm run migrate',
  async (script) => {
    const command = await start(script);

    const exit = await exitWithin(command, 30_000);

    expect(exit.code).toBe(1);
    const lines = command.output().trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(
      /^database is not migrated \(\d+ migrations? (is|are) pending, first \d+_\w+\): run `npm run migrate`/
    );
  },
  60_000
);

test('after npm run migrate, the same npm run api starts and answers ready', async () => {
  await run('npm', ['run', '--silent', 'migrate'], {
    cwd: PROJECT_ROOT,
    env: { ...process.env, DATABASE_URL: fresh.url },
  });
  const port = await findFreePort();
  const gateway = runCommand('npm', ['run', '--silent', 'api'], {
    TEMPORAL_ADDRESS: process.env.TEMPORAL_ADDRESS,
    DATABASE_URL: fresh.url,
    PORT: String(port),
  });
  started.push(gateway);

  await waitFor(
    'the gateway to answer ready',
    async () => {
      if (gateway.child.exitCode !== null) throw new Error(`npm run api exited:\n${gateway.output()}`);
      return (await fetch(`http://127.0.0.1:${port}/readyz`)).status === 200;
    },
    30_000
  );
}, 90_000);
