/**
 * The answer for an instant never depends on the machine's own zone: the same random schedules are
 * answered in this process and in fresh processes under TZ=Pacific/Chatham (+12:45/+13:45, the
 * zone naive code gets wrong most visibly) and TZ=America/St_Johns (-03:30/-02:30).
 */
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import fc from 'fast-check';
import { anySchedule, instant, plainRotation, ZONES } from './arbitraries';
import { answersFor } from './fixtures/answers-cli';
import type { Override } from '../../src/oncall/schedule';

const CLI = path.join(__dirname, 'fixtures', 'answers-cli.ts');

function answersUnder(tz: string, cases: unknown): { tz: string; answers: unknown[] } {
  const child = spawnSync(process.execPath, ['--import', 'tsx', CLI], {
    input: JSON.stringify(cases),
    env: { ...process.env, TZ: tz },
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
  });
  if (child.status !== 0) throw new Error(`answers-cli under TZ=${tz} failed: ${child.stderr}`);
  return JSON.parse(child.stdout) as { tz: string; answers: unknown[] };
}

test.each(['Pacific/Chatham', 'America/St_Johns'])('random schedules get the same answers under TZ=%s', (tz) => {
  const cases = [
    ...fc.sample(fc.record({ schedule: anySchedule, at: instant }), { numRuns: 150, seed: 21 }),
    ...fc.sample(
      fc.record({
        schedule: fc.record({
          timeZone: fc.constantFrom(...ZONES),
          rotations: fc.tuple(plainRotation),
          overrides: fc.constant<Override[]>([]),
        }),
        at: instant,
      }),
      { numRuns: 50, seed: 42 }
    ),
  ];

  const child = answersUnder(tz, cases);

  expect(child.tz).toBe(tz);
  expect(child.answers).toEqual(JSON.parse(JSON.stringify(answersFor(cases))));
});
