import { execFile } from 'node:child_process';
import net from 'node:net';
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { promisify } from 'node:util';
import { Connection } from '@temporalio/client';
import { encodeSearchAttributeIndexedValueType } from '@temporalio/common/lib/search-attributes';
import { findFreePort } from '../../src/infra/free-port';
import { ensureNamespace, ensureSearchAttributes } from '../../src/infra/temporal-setup';
import { waitFor } from '../helpers/wait';

const run = promisify(execFile);
const ROOT = path.resolve(__dirname, '../..');
const ALERT_ATTRIBUTES = ['AlertState', 'AlertTeam', 'AlertSeverity', 'AlertSource', 'AlertTitle'];
const KEYWORD = encodeSearchAttributeIndexedValueType('KEYWORD');
const TEXT = encodeSearchAttributeIndexedValueType('TEXT');
/** The indexed type each alert attribute must have: words of the title are searched, the rest matched whole. */
const typeOf = (name: string) => (name === 'AlertTitle' ? TEXT : KEYWORD);

let connection: Connection;

beforeAll(async () => {
  connection = await Connection.connect({ address: process.env.TEMPORAL_ADDRESS! });
});

afterAll(async () => {
  await connection.close();
});

/** A namespace no other test touches, so that none of Escalator's attributes exist in it yet. */
async function freshNamespace(): Promise<string> {
  const namespace = `escalator-setup-${randomUUID().slice(0, 8)}`;
  await ensureNamespace(connection, namespace);
  return namespace;
}

async function customAttributes(namespace: string) {
  const response = await connection.operatorService.listSearchAttributes({ namespace });
  return response.customAttributes;
}

test('registers a missing namespace once, keeping closed alerts for a week, and leaves an existing one alone', async () => {
  const namespace = `escalator-setup-${randomUUID().slice(0, 8)}`;

  expect(await ensureNamespace(connection, namespace)).toBe(true);
  expect(await ensureNamespace(connection, namespace)).toBe(false);

  const described = await connection.workflowService.describeNamespace({ namespace });
  expect(described.namespaceInfo?.name).toBe(namespace);
  // Closed alert workflows stay in the Web UI for a week.
  expect(Number(described.config?.workflowExecutionRetentionTtl?.seconds)).toBe(7 * 24 * 3600);
});

test('registers the alert search attributes (Keyword, and Text for the title), and a second run changes nothing', async () => {
  const namespace = await freshNamespace();
  const before = await customAttributes(namespace);
  for (const name of ALERT_ATTRIBUTES) expect(before).not.toHaveProperty(name);

  const first = await ensureSearchAttributes(connection, namespace);
  const afterFirst = await customAttributes(namespace);
  const second = await ensureSearchAttributes(connection, namespace);
  const afterSecond = await customAttributes(namespace);

  expect(first.added.sort()).toEqual([...ALERT_ATTRIBUTES].sort());
  expect(first.alreadyPresent).toEqual([]);
  for (const name of ALERT_ATTRIBUTES) expect(afterFirst[name]).toBe(typeOf(name));
  expect(second.added).toEqual([]);
  expect(second.alreadyPresent.sort()).toEqual([...ALERT_ATTRIBUTES].sort());
  expect(afterSecond).toEqual(afterFirst);
});

test('adds only the attributes that are missing', async () => {
  const namespace = await freshNamespace();
  await connection.operatorService.addSearchAttributes({ namespace, searchAttributes: { AlertTeam: KEYWORD! } });

  const setup = await ensureSearchAttributes(connection, namespace);

  expect(setup.alreadyPresent).toEqual(['AlertTeam']);
  expect(setup.added.sort()).toEqual(['AlertSeverity', 'AlertSource', 'AlertState', 'AlertTitle']);
  const attributes = await customAttributes(namespace);
  for (const name of ALERT_ATTRIBUTES) expect(attributes[name]).toBe(typeOf(name));
});

test('two setups racing on one namespace both succeed', async () => {
  const namespace = await freshNamespace();

  const [one, two] = await Promise.all([
    ensureSearchAttributes(connection, namespace),
    ensureSearchAttributes(connection, namespace),
  ]);

  expect(new Set([...one.added, ...two.added, ...one.alreadyPresent])).toEqual(new Set(ALERT_ATTRIBUTES));
  const attributes = await customAttributes(namespace);
  for (const name of ALERT_ATTRIBUTES) expect(attributes[name]).toBe(typeOf(name));
});

test('refuses a namespace where an alert attribute already has another type', async () => {
  const namespace = await freshNamespace();
  await connection.operatorService.addSearchAttributes({ namespace, searchAttributes: { AlertSeverity: TEXT! } });

  await expect(ensureSearchAttributes(connection, namespace)).rejects.toThrow(
    /AlertSeverity is registered as TEXT, but Escalator writes KEYWORD/
  );
  expect(await customAttributes(namespace)).not.toHaveProperty('AlertState');
});

test('npm run temporal:setup prepares the configured namespace and says what it did', async () => {
  const namespace = `escalator-setup-${randomUUID().slice(0, 8)}`;
  const env = { ...process.env, TEMPORAL_NAMESPACE: namespace };

  const first = await run('npm', ['run', '--silent', 'temporal:setup'], { cwd: ROOT, env });
  const second = await run('npm', ['run', '--silent', 'temporal:setup'], { cwd: ROOT, env });

  expect(first.stdout).toContain(`registered namespace ${namespace}`);
  for (const name of ALERT_ATTRIBUTES) expect(first.stdout).toContain(`registered search attribute ${name}`);
  expect(second.stdout).toContain(`namespace ${namespace} already exists`);
  expect(second.stdout).toContain(
    'search attributes already registered: AlertState, AlertTeam, AlertSeverity, AlertSource, AlertTitle'
  );
  expect(second.stdout).not.toContain('registered search attribute');
  const attributes = await customAttributes(namespace);
  for (const name of ALERT_ATTRIBUTES) expect(attributes[name]).toBe(typeOf(name));
});

test('npm run temporal:setup waits for a Temporal server that is still starting', async () => {
  // The server appears on this port only after the command has started: a TCP relay to the real one.
  const port = await findFreePort();
  const [upstreamHost, upstreamPort] = process.env.TEMPORAL_ADDRESS!.split(':') as [string, string];
  const relay = net.createServer((client) => {
    const upstream = net.connect(Number(upstreamPort), upstreamHost);
    client.pipe(upstream).pipe(client);
    client.on('error', () => upstream.destroy());
    upstream.on('error', () => client.destroy());
  });
  const env = { ...process.env, TEMPORAL_ADDRESS: `127.0.0.1:${port}`, TEMPORAL_NAMESPACE: 'default' };

  const setup = run('npm', ['run', '--silent', 'temporal:setup'], { cwd: ROOT, env });
  // The server comes up only once the command has found it missing and said it waits.
  let output = '';
  setup.child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  await waitFor(
    'the command to wait for Temporal',
    () => output.includes(`waiting for Temporal at 127.0.0.1:${port}`),
    60_000
  );
  await new Promise<void>((resolve) => relay.listen(port, '127.0.0.1', resolve));
  try {
    const { stdout } = await setup;
    expect(stdout).toContain(`waiting for Temporal at 127.0.0.1:${port}`);
    expect(stdout).toContain(`Temporal at 127.0.0.1:${port} is ready for Escalator (namespace default)`);
  } finally {
    await new Promise((resolve) => relay.close(resolve));
  }
});

test('npm run temporal:setup fails with a clear message when TEMPORAL_ADDRESS is unset', async () => {
  const env = { ...process.env, TEMPORAL_ADDRESS: '' };

  const failure = run('npm', ['run', '--silent', 'temporal:setup'], { cwd: ROOT, env });

  await expect(failure).rejects.toMatchObject({
    code: 1,
    stderr: expect.stringContaining('TEMPORAL_ADDRESS is not set'),
  });
});
