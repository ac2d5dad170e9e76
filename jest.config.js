/** Jest runs TypeScript through @swc/jest (transpile only); type-checking is `tsc --noEmit`, run first by `npm test`. */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  transform: { '^.+\\.tsx?$': ['@swc/jest', { jsc: { target: 'es2022', parser: { syntax: 'typescript' } }, module: { type: 'commonjs' } }] },
  moduleFileExtensions: ['ts', 'js', 'json'],
  testTimeout: 120000,
  // Jest's default on 2 cores is 1 worker (cores - 1): everything serial. Many suites wait on local
  // services (moto, PostgreSQL, Azurite), so 2 workers halve the wall time here (107 s -> 57 s measured).
  maxWorkers: 2,
};
