/** `npm test` ends by naming the suites that could not run here, and why: a green run is not always a full one. */
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { skippedSuites, skippedSummary } = require('./skipped-suites-reporter.js') as {
  skippedSuites: (results: unknown, rootDir: string) => Array<{ file: string; reason: string; tests: number }>;
  skippedSummary: (skipped: Array<{ file: string; reason: string; tests: number }>) => string;
};

const fileResult = (file: string, tests: Array<{ status: string; ancestorTitles: string[] }>) => ({
  testFilePath: `/repo/test/${file}`,
  testResults: tests,
});

test('names each suite skipped under a "(skipped: why)" title, with its reason and how many tests', () => {
  const results = {
    testResults: [
      fileResult('e2e/alertmanager.test.ts', [
        { status: 'pending', ancestorTitles: ['the real Alertmanager (skipped: prometheus not installed)', 'a'] },
        { status: 'pending', ancestorTitles: ['the real Alertmanager (skipped: prometheus not installed)'] },
      ]),
      // Filtered out by -t, or test.todo: pending without saying it could not run, so not listed.
      fileResult('api/teams.test.ts', [
        { status: 'passed', ancestorTitles: ['teams'] },
        { status: 'pending', ancestorTitles: ['teams'] },
      ]),
    ],
  };

  const skipped = skippedSuites(results, '/repo');

  expect(skipped).toEqual([{ file: 'test/e2e/alertmanager.test.ts', reason: 'prometheus not installed', tests: 2 }]);
  expect(skippedSummary(skipped)).toBe(
    'Not a full run: a suite could not run here.\n' +
      '  test/e2e/alertmanager.test.ts: 2 tests skipped: prometheus not installed\n'
  );
});

test('says nothing when every suite ran', () => {
  expect(skippedSummary(skippedSuites({ testResults: [fileResult('a.test.ts', [])] }, '/repo'))).toBe('');
});
