/** Memory with every alert of the run still open, over a soak (BENCH_SOAK_S, 60 s by default). */
import { record, SCALE, TARGETS, type BenchContext } from '../harness';

/** Samples the RSS of the gateway + worker process and records its peak; flat means the last within 10 % of the first. */
export async function measureMemorySoak({ db, rssMiB }: BenchContext): Promise<void> {
  const openAlerts = await db.alert.count({ where: { openFingerprint: { not: null } } });
  const samples: number[] = [rssMiB()];
  const soakEnd = Date.now() + SCALE.soakSeconds * 1000;
  while (Date.now() < soakEnd) {
    await new Promise((resolve) => setTimeout(resolve, Math.min(5_000, SCALE.soakSeconds * 200)));
    samples.push(rssMiB());
  }
  const peak = Math.max(...samples);
  const first = samples[0] as number;
  const last = samples.at(-1) as number;
  record({
    name: `RSS of the gateway + worker process with ${openAlerts} open alerts, ${SCALE.soakSeconds} s soak`,
    value: peak,
    unit: 'MiB peak',
    target: `≤ ${TARGETS.rssMiB} MiB, flat`,
    ok: peak <= TARGETS.rssMiB && last <= first * 1.1,
    note: `first ${first} MiB, last ${last} MiB`,
  });
}
