/**
 * Bundles the alert workflows in a child process and writes the bundle to a file for the worker
 * to load. Bundling (webpack and swc) in the worker's own process left about 100 MiB there for
 * good (measured: RSS 154 → 253 MiB); in a child that memory goes back to the system on exit.
 *
 * The file goes into a directory made for it by `mkdtemp` (a random name, mode 0700, owned by this
 * user) and is created there exclusively (`wx`: O_CREAT|O_EXCL, which also refuses a symlink in
 * its place): a predictable name in the shared temporary directory let another local user plant a
 * symlink there and have the worker overwrite a file of theirs choosing (issue 24).
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { bundleWorkflowCode } from '@temporalio/worker';

const run = promisify(execFile);

export interface WorkflowBundleFile {
  /** The bundle, inside a directory of its own. */
  path: string;
  /** Removes the bundle and its directory (the worker reads it once, when it is created). */
  remove(): Promise<void>;
}

/**
 * Writes the workflow bundle from a child Node process into a new private directory under
 * `parentDir` (default: the system's temporary directory).
 */
export async function bundleWorkflowsInChildProcess(parentDir = os.tmpdir()): Promise<WorkflowBundleFile> {
  const dir = await mkdtemp(path.join(parentDir, 'escalator-workflows-'));
  const remove = () => rm(dir, { recursive: true, force: true });
  const outFile = path.join(dir, 'workflows.js');
  // The same Node flags as this process (`--require tsx/cjs` under npm start, none for the built dist/);
  // a TypeScript file run from elsewhere (jest's transform, which is not a Node flag) needs tsx too.
  const tsx = __filename.endsWith('.ts') && !process.execArgv.some((arg) => arg.includes('tsx'));
  try {
    await run(process.execPath, [...process.execArgv, ...(tsx ? ['--import', 'tsx'] : []), __filename, outFile], {
      timeout: 300_000,
    });
  } catch (error) {
    await remove();
    throw error;
  }
  return { path: outFile, remove };
}

if (require.main === module) {
  const outFile = process.argv[2];
  if (!outFile) throw new Error('usage: workflow-bundle.ts <out file>');
  void bundleWorkflowCode({
    workflowsPath: require.resolve('../workflows'),
    logger: { log() {}, trace() {}, debug() {}, info() {}, warn() {}, error: (message) => console.error(message) },
  }).then(({ code }) => writeFileSync(outFile, code, { flag: 'wx', mode: 0o600 }));
}
