/**
 * A jest reporter that ends every run with the suites that could not run here, and why, so that a
 * green run is never taken for a full one. A suite that must skip where a tool is missing says so
 * in its describe title, `… (skipped: <why>)` (test/e2e/alertmanager.test.ts does); its tests
 * are then pending, and this reporter names the file and the reason after jest's own summary.
 *
 * Plain CommonJS: jest loads reporters without the ts-jest transform.
 */
const path = require('node:path');

const SKIPPED_TITLE = /\(skipped: (.+)\)\s*$/;

/**
 * The files whose pending tests sit under a `(skipped: …)` title, with the reason and how many.
 * @param {{ testResults: Array<{ testFilePath: string, testResults: Array<{ status: string, ancestorTitles: string[] }> }> }} results
 * @param {string} rootDir
 * @returns {Array<{ file: string, reason: string, tests: number }>}
 */
function skippedSuites(results, rootDir) {
  const skipped = [];
  for (const file of results.testResults) {
    let reason;
    let tests = 0;
    for (const test of file.testResults) {
      if (test.status !== 'pending') continue;
      const title = test.ancestorTitles.map((t) => SKIPPED_TITLE.exec(t)).find(Boolean);
      if (!title) continue;
      reason = title[1];
      tests += 1;
    }
    if (reason) skipped.push({ file: path.relative(rootDir, file.testFilePath), reason, tests });
  }
  return skipped;
}

/**
 * The lines printed after the summary; none when nothing was skipped.
 * @param {Array<{ file: string, reason: string, tests: number }>} skipped
 * @returns {string}
 */
function skippedSummary(skipped) {
  if (skipped.length === 0) return '';
  const lines = skipped.map(
    ({ file, reason, tests }) => `  ${file}: ${tests} ${tests === 1 ? 'test' : 'tests'} skipped: ${reason}`
  );
  return `Not a full run: ${skipped.length === 1 ? 'a suite' : `${skipped.length} suites`} could not run here.\n${lines.join('\n')}\n`;
}

class SkippedSuitesReporter {
  /** @param {{ rootDir: string }} globalConfig */
  constructor(globalConfig) {
    this.rootDir = globalConfig.rootDir;
  }

  /** @param {unknown} _contexts @param {Parameters<typeof skippedSuites>[0]} results */
  onRunComplete(_contexts, results) {
    const summary = skippedSummary(skippedSuites(results, this.rootDir));
    // Jest's summary reporter always runs last, in the same turn: written after it, this is the
    // last thing a person reads.
    if (summary) setImmediate(() => process.stderr.write(summary));
  }
}

module.exports = SkippedSuitesReporter;
module.exports.skippedSuites = skippedSuites;
module.exports.skippedSummary = skippedSummary;
