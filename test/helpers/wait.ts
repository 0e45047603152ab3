/**
 * Thrown by a probe when what it waits for can no longer happen (the process it waits on exited):
 * waitFor gives up at once with it instead of polling until its cap.
 */
export class StopWaiting extends Error {}

/**
 * Polls `probe` until it returns a truthy value (returned) or `timeoutMs` passes (throws with `what`).
 * The cap is a safety net, not the expected duration: pick it far above what the wait needs on a
 * loaded machine, and let the probe say when it is done.
 */
export async function waitFor<T>(
  what: string,
  probe: () => T | Promise<T>,
  timeoutMs = 15_000
): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value) return value;
    } catch (error) {
      if (error instanceof StopWaiting) throw error;
      last = error;
    }
    if (Date.now() > deadline)
      throw new Error(`Timed out waiting for ${what}${last instanceof Error ? `: ${last.message}` : ''}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
