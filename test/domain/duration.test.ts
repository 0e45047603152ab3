/** Durations are read and written in one form: what the API and Slack show is what they take. */
import fc from 'fast-check';
import { formatDuration, parseDuration } from '../../src/domain/duration';

describe('formatDuration', () => {
  test.each([
    [300_000, '5m'],
    [30_000, '30s'],
    [90_000, '90s'],
    [7_200_000, '2h'],
    [5_400_000, '90m'],
    [1_500, '1500ms'],
  ])('writes %d ms as %s', (ms, text) => {
    expect(formatDuration(ms)).toBe(text);
  });

  test('parseDuration reads back every duration it writes', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 7 * 24 * 3_600_000 }), (ms) => {
        expect(parseDuration(formatDuration(ms))).toBe(ms);
      })
    );
  });
});
