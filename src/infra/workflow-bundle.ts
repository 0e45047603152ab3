/**
 * Bundles the alert workflows in a child process and writes the bundle to a file for the worker
 * to load. Bundling (webpack and swc) in the worker's own process left about 100 MiB there for
 * good (measured: RSS 154 → 253 MiB); in a child that memory goes back to the system on exit.
 */
import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { promisify } from 'node:util';
import { bundleWorkflowCode } from '@temporalio/worker';

const run = promisify(execFile);

/** Writes the workflow bundle to `outFile` from a child Node process; resolves with its path. */
export async function bundleWorkflowsInChildProcess(outFile: string): Promise<string> {
  // The same Node flags as this process (`--require tsx/cjs` under npm start, none for the built dist/);
  // a TypeScript file run from elsewhere (jest's transform, which is not a Node flag) needs tsx too.
  const tsx = __filename.endsWith('.ts') && !process.execArgv.some((arg) => arg.includes('tsx'));
  await run(process.execPath, [...process.execArgv, ...(tsx ? ['--import', 'tsx'] : []), __filename, outFile], {
    timeout: 300_000,
  });
  return outFile;
}

if (require.main === module) {
  const outFile = process.argv[2];
  if (!outFile) throw new Error('usage: workflow-bundle.ts <out file>');
  void bundleWorkflowCode({
    workflowsPath: require.resolve('../workflows'),
    logger: { log() {}, trace() {}, debug() {}, info() {}, warn() {}, error: (message) => console.error(message) },
  }).then(({ code }) => writeFileSync(outFile, code));
}
