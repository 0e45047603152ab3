/**
 * What the bench scripts share: `npm start` as a child process, reading its processes' CPU, and
 * stopping what a script started however it ends.
 */
import { readFileSync } from 'node:fs';
import { descendantsOf, killProcessGroup, runCommand } from '../test/helpers/processes';

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

/**
 * Starts `npm start` and waits until its gateway is ready; returns where its Temporal server
 * listens. Given a teardown, the product is stopped with it, even while it is still starting.
 */
export async function startProduct(
  env: Record<string, string>,
  gatewayUrl: string,
  {
    command: [command, args] = ['npm', ['start']],
    teardown,
  }: { command?: [string, string[]]; teardown?: Teardown } = {}
) {
  const product = runCommand(command, args, env);
  teardown?.add('npm start', async () => {
    product.child.kill('SIGTERM');
    await Promise.race([product.exited, new Promise((resolve) => setTimeout(resolve, 30_000))]);
    killProcessGroup(product);
  });
  const deadline = Date.now() + 300_000;
  for (;;) {
    if (product.child.exitCode !== null) throw new Error(`npm start exited:\n${product.output()}`);
    if (Date.now() > deadline) {
      killProcessGroup(product);
      throw new Error(`npm start not ready after 5 minutes:\n${product.output()}`);
    }
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

/** A stack of things to stop, run in reverse order of starting (see stopOnExit). */
export interface Teardown {
  add(what: string, stop: () => unknown): void;
  /** Stops everything added so far; a second call waits for the first. */
  run(): Promise<void>;
}

/**
 * What a bench script started, stopped however the script ends: at the end of its run, when it
 * fails before or during the run, and on Ctrl-C or SIGTERM. Without this a run that died or was
 * cut short left its PostgreSQL running, with its cluster on disk.
 */
export function stopOnExit(): Teardown {
  const stack: Array<{ what: string; stop: () => unknown }> = [];
  let running: Promise<void> | undefined;
  const run = () =>
    (running ??= (async () => {
      for (const { what, stop } of stack.reverse().splice(0)) {
        try {
          await stop();
        } catch (error) {
          console.error(`could not stop ${what}:`, error);
        }
      }
    })());
  // `on`, not `once`: one Ctrl-C or `timeout` reaches this process more than once (npm and tsx
  // relay it), and Node's default for the second would end the process halfway through stopping.
  let signalled = false;
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.on(signal, () => {
      if (signalled) return;
      signalled = true;
      console.error(`${signal}: stopping what the bench started`);
      void run().finally(() => process.exit(1));
    });
  }
  return { add: (what, stop) => stack.push({ what, stop }), run };
}
