import { batchPerAlert } from '../../src/intake/alert-batches';

/** A `take` whose calls the test ends one by one, recording what each call was given. */
function controlledTake() {
  const calls: Array<{ items: string[]; finish: (error?: Error) => void }> = [];
  let running = 0;
  let mostAtOnce = 0;
  const take = (items: string[]) =>
    new Promise<string[]>((resolve, reject) => {
      running += 1;
      mostAtOnce = Math.max(mostAtOnce, running);
      calls.push({
        items,
        finish: (error) => {
          running -= 1;
          if (error) reject(error);
          else resolve(items.map((item) => `took ${item}`));
        },
      });
    });
  return { take, calls, mostAtOnce: () => mostAtOnce };
}

const settled = () => new Promise((resolve) => setImmediate(resolve));

describe('reports of one alert, batched', () => {
  test('the first report goes at once; those that arrive meanwhile go together next, in order, each answered its own result', async () => {
    const { take, calls, mostAtOnce } = controlledTake();
    const submit = batchPerAlert(take, 64);

    const first = submit('alert/a', 'r1');
    await settled();
    expect(calls.map((call) => call.items)).toEqual([['r1']]);
    const later = ['r2', 'r3', 'r4'].map((item) => submit('alert/a', item));
    await settled();
    expect(calls).toHaveLength(1);

    calls[0]!.finish();
    expect(await first).toBe('took r1');
    await settled();
    expect(calls.map((call) => call.items)).toEqual([['r1'], ['r2', 'r3', 'r4']]);
    calls[1]!.finish();
    expect(await Promise.all(later)).toEqual(['took r2', 'took r3', 'took r4']);
    expect(mostAtOnce()).toBe(1);
  });

  test('other alerts do not wait', async () => {
    const { take, calls } = controlledTake();
    const submit = batchPerAlert(take, 64);

    const a = submit('alert/a', 'a1');
    const b = submit('alert/b', 'b1');
    await settled();

    expect(calls.map((call) => call.items)).toEqual([['a1'], ['b1']]);
    calls[1]!.finish();
    expect(await b).toBe('took b1');
    calls[0]!.finish();
    expect(await a).toBe('took a1');
  });

  test('a call that fails fails its own reports only, and the next ones still go', async () => {
    const { take, calls } = controlledTake();
    const submit = batchPerAlert(take, 64);

    const first = submit('alert/a', 'r1');
    await settled();
    const second = submit('alert/a', 'r2');
    calls[0]!.finish(new Error('the database is unavailable'));

    await expect(first).rejects.toThrow('the database is unavailable');
    await settled();
    calls[1]!.finish();
    expect(await second).toBe('took r2');
  });

  test('a call takes at most the bound; the rest go in the calls after it', async () => {
    const { take, calls } = controlledTake();
    const submit = batchPerAlert(take, 2);

    const all = [submit('alert/a', 'r1')];
    await settled();
    all.push(...['r2', 'r3', 'r4'].map((item) => submit('alert/a', item)));
    for (let call = 0; call < 3; call++) {
      await settled();
      calls[call]!.finish();
    }

    expect(await Promise.all(all)).toEqual(['took r1', 'took r2', 'took r3', 'took r4']);
    expect(calls.map((call) => call.items)).toEqual([['r1'], ['r2', 'r3'], ['r4']]);
  });
});
