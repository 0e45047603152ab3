/**
 * Reports of one alert, handed to the database one call at a time: reports that arrive while a
 * call for their alert runs wait for it, and then all go together in the next call. Each report is
 * still answered only when the call that took it has committed.
 *
 * Why: reports of one alert take turns on its journal lock (journal.ts). Sixteen senders repeating
 * one alert would otherwise be sixteen turns on that lock, each a wake-up of a waiting PostgreSQL
 * backend; batched, they are a couple of turns, each taking many reports in one statement. Nothing
 * waits when there is no other report of the alert in flight: the first call goes at once.
 * (DataLoader and its kin batch what arrives within one tick and may run calls for one key side
 * by side; here a batch is whatever arrived during the previous call, and calls never overlap.)
 */

interface Waiting<T, R> {
  item: T;
  resolve: (result: R) => void;
  reject: (error: unknown) => void;
}

/**
 * Returns `submit(key, item)`, which resolves with what `take` answered for `item`. `take` gets the
 * items of one key in the order they were submitted, at most `maxBatch` at a time, and answers one
 * result per item, in order; calls for one key never overlap. When `take` throws, every item of
 * that call is rejected with its error.
 */
export function batchPerAlert<T, R>(
  take: (items: T[]) => Promise<R[]>,
  maxBatch: number
): (key: string, item: T) => Promise<R> {
  /** Items waiting behind the call in flight, by key; a key is here exactly while a call for it runs. */
  const waiting = new Map<string, Array<Waiting<T, R>>>();

  async function run(key: string, first: Array<Waiting<T, R>>): Promise<void> {
    for (let batch = first; batch.length > 0; batch = (waiting.get(key) ?? []).splice(0, maxBatch)) {
      try {
        const results = await take(batch.map((entry) => entry.item));
        batch.forEach((entry, index) => entry.resolve(results[index] as R));
      } catch (error) {
        for (const entry of batch) entry.reject(error);
      }
    }
    waiting.delete(key);
  }

  return (key, item) =>
    new Promise<R>((resolve, reject) => {
      const entry = { item, resolve, reject };
      const queue = waiting.get(key);
      if (queue) {
        queue.push(entry);
        return;
      }
      waiting.set(key, []);
      void run(key, [entry]);
    });
}
