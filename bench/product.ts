/** What the bench scripts share: `npm start` as a child process, and reading its processes' CPU. */
import { readFileSync } from 'node:fs';
import { descendantsOf, runCommand } from '../test/helpers/processes';

const USER_HZ = 100;

/** CPU seconds used so far by one process (user + system). */
export function cpuSecondsOf(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / USER_HZ;
  } catch {
    return 0; // ended meanwhile
  }
}

/** Starts `npm start` and waits until its gateway is ready; returns where its Temporal server listens. */
export async function startProduct(
  env: Record<string, string>,
  gatewayUrl: string,
  [command, args]: [string, string[]] = ['npm', ['start']]
) {
  const product = runCommand(command, args, env);
  const deadline = Date.now() + 300_000;
  for (;;) {
    if (product.child.exitCode !== null) throw new Error(`npm start exited:\n${product.output()}`);
    if (Date.now() > deadline) throw new Error(`npm start not ready after 5 minutes:\n${product.output()}`);
    const ready = await fetch(`${gatewayUrl}/readyz`).then(
      (response) => response.status === 200,
      () => false
    );
    if (ready) break;
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  // The dev server is the child that runs `temporal server start-dev`; its frontend port is on its command line.
  const devServer = descendantsOf(product.pid).find((child) => /start-dev/.test(child.cmdline));
  const port = devServer ? /--port[ =](\d+)/.exec(devServer.cmdline)?.[1] : undefined;
  if (!port)
    throw new Error(
      `cannot find npm start's Temporal dev server among:\n${JSON.stringify(descendantsOf(product.pid))}`
    );
  return { product, temporalAddress: `127.0.0.1:${port}` };
}
