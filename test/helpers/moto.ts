/**
 * A local AWS KMS: moto's server mode (PyPI `moto[server]`), a real HTTP server on loopback that
 * speaks the KMS API, so that the AWS SDK's KMS client runs unchanged against it. The wheel is
 * installed once under .tools/pypi/ (PyPI is reachable where the tests run); each test file starts
 * its own server on a free port.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, renameSync, rmSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { CreateKeyCommand, KMSClient } from '@aws-sdk/client-kms';
import { findFreePort } from '../../src/infra/free-port';
import { PYPI_DIR } from '../../src/infra/temporal-binaries';

const run = promisify(execFile);
const MOTO_VERSION = '5.1.22';
const MOTO_DIR = path.join(PYPI_DIR, `moto-${MOTO_VERSION}`);

/** Installs moto[server] into .tools/pypi/moto-<version> unless it is there (staged, then renamed). */
export async function ensureMoto(): Promise<string> {
  if (existsSync(path.join(MOTO_DIR, 'moto', 'server.py'))) return MOTO_DIR;
  const staging = `${MOTO_DIR}.partial-${process.pid}`;
  try {
    await run(
      'python3',
      [
        '-m',
        'pip',
        'install',
        '--quiet',
        '--disable-pip-version-check',
        '--target',
        staging,
        `moto[server]==${MOTO_VERSION}`,
      ],
      { timeout: 600_000 }
    );
    try {
      renameSync(staging, MOTO_DIR);
    } catch {
      rmSync(staging, { recursive: true, force: true }); // another run installed it first
    }
    return MOTO_DIR;
  } catch (error) {
    rmSync(staging, { recursive: true, force: true });
    throw new Error(`could not install moto[server]==${MOTO_VERSION} from PyPI: ${(error as Error).message}`);
  }
}

export interface LocalKms {
  /** For AWS_ENDPOINT_URL. */
  endpoint: string;
  /** Environment for the AWS SDK: endpoint, region and dummy credentials (moto accepts any). */
  env: Record<string, string>;
  /** A new symmetric key's id. */
  createKey(): Promise<string>;
  /** Stops the server. */
  stop(): Promise<void>;
}

/** Starts moto's server on a free loopback port and waits until it answers. */
export async function startLocalKms(): Promise<LocalKms> {
  const dir = await ensureMoto();
  const port = await findFreePort();
  const child: ChildProcess = spawn('python3', ['-m', 'moto.server', '-H', '127.0.0.1', '-p', String(port)], {
    env: { PATH: process.env.PATH, PYTHONPATH: dir, HOME: process.env.HOME },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const endpoint = `http://127.0.0.1:${port}`;
  const env = {
    AWS_ENDPOINT_URL: endpoint,
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'testing',
    AWS_SECRET_ACCESS_KEY: 'testing',
  };
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`moto exited at start: ${output}`);
    try {
      const response = await fetch(`${endpoint}/moto-api/`);
      if (response.status < 500) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`moto did not answer within 60 s: ${output}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  const client = () =>
    new KMSClient({
      endpoint,
      region: env.AWS_REGION,
      credentials: { accessKeyId: env.AWS_ACCESS_KEY_ID, secretAccessKey: env.AWS_SECRET_ACCESS_KEY },
    });
  return {
    endpoint,
    env,
    async createKey() {
      const kms = client();
      try {
        const created = await kms.send(new CreateKeyCommand({ Description: 'escalator test key' }));
        return created.KeyMetadata!.KeyId!;
      } finally {
        kms.destroy();
      }
    },
    async stop() {
      if (child.exitCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}
