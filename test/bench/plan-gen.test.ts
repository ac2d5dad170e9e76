/**
 * The scaling benchmark's generated plans must be valid plans (no timing here:
 * the benchmarks live in `npm run bench`).
 */
import { naming, resolvePlan, validatePlan } from '../../lib/core';
import { generatedPlan, kindMix } from '../../scripts/bench/plan-gen';

describe('bench plan generator', () => {
  it.each([10, 100, 500])('a plan of %i datasets resolves with no error or warning, in the documented mix', (n) => {
    const plan = generatedPlan(n);
    expect(validatePlan(plan)).toEqual([]);
    const resolved = resolvePlan(plan);
    expect(resolved.datasets).toHaveLength(n);
    expect(kindMix(n)).toEqual({ s3Bucket: 0.4 * n, dynamoDbTable: 0.3 * n, postgres: 0.2 * n, connectInstance: 0.1 * n });
    for (const ds of resolved.datasets) {
      expect(naming.datasetObjectsPrefix(ds.name)).toMatch(/^objects\/[a-z][a-z0-9-]*\/$/);
      if (ds.kind === 's3Bucket') expect(naming.nameRuleViolation(ds.bucketName, naming.NAME_RULES.s3Bucket)).toBeUndefined();
    }
  });
});
