/** @type {import('jest').Config} */
module.exports = {
  preset: 'ts-jest',
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  globalSetup: '<rootDir>/test/global-setup.ts',
  globalTeardown: '<rootDir>/test/global-teardown.ts',
  // After jest's own summary: the suites that skipped here, and why (a green run may not be a full one).
  reporters: ['default', '<rootDir>/test/skipped-suites-reporter.js'],
  testTimeout: 60_000,
  // Each worker process loads the Temporal SDK's native runtime once; two suites' workers on
  // 2 cores is what these machines hold.
  maxWorkers: 2,
  transform: { '^.+\\.ts$': ['ts-jest', { diagnostics: { warnOnly: false } }] },
};
