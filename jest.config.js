/** Jest runs TypeScript through @swc/jest (transpile only); type-checking is `tsc --noEmit`, run first by `npm test`. */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  transform: { '^.+\\.tsx?$': ['@swc/jest', { jsc: { target: 'es2022', parser: { syntax: 'typescript' } }, module: { type: 'commonjs' } }] },
  moduleFileExtensions: ['ts', 'js', 'json'],
  testTimeout: 120000,
  // Jest's default on 2 cores is 1 worker (cores - 1): everything serial. Many suites wait on local
  // services (moto, PostgreSQL, Azurite, skopeo), so more workers than cores pay off: on 2 cores, jest
  // alone took 88 s with 2 workers, 78 s with 3 and 83 s with 4 (2026-11-26, back to back, 706 tests).
  maxWorkers: 3,
};
