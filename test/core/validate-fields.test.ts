/**
 * The plan fields added for format v2, completeness checks, image mirroring and real databases:
 * defaults, and a clear refusal naming field, value and fix.
 */
import { LIMITS, PlanValidationError, resolvePlan, type PostgresDataset, type ProtectionPlan } from '../../lib/core';
import { referencePlan } from '../../stacks/reference-plan';

function plan(edit: (p: Record<string, any>) => void = () => undefined): ProtectionPlan {
  const p = JSON.parse(JSON.stringify(referencePlan));
  edit(p);
  return p as ProtectionPlan;
}

function rejection(p: ProtectionPlan, field: string): string {
  try {
    resolvePlan(p);
  } catch (e) {
    expect(e).toBeInstanceOf(PlanValidationError);
    const line = (e as Error).message.split('\n').find((l) => l.includes(`- ${field} = `));
    if (line) return line;
    throw new Error(`no problem reported for ${field}: ${(e as Error).message}`);
  }
  throw new Error(`plan was accepted; expected a problem with ${field}`);
}

const crmIndex = referencePlan.datasets.findIndex((d) => d.kind === 'postgres');

describe('plan fields: defaults', () => {
  test('scrubCycleNights, keepReleases, allowEmpty, engineVersion and extensions default as documented', () => {
    // the reference plan lists pgcrypto (its CRM uses it); the default is checked on a plan without the field
    const r = resolvePlan(plan((p) => { delete p.datasets[crmIndex].extensions; }));
    expect(r.verification.scrubCycleNights).toBe(30);
    expect(r.images.keepReleases).toBe(5);
    for (const d of r.datasets) expect(d.allowEmpty).toBe(false);
    const crm = r.datasets[crmIndex] as PostgresDataset;
    expect(crm.engineVersion).toBe(16);
    expect(crm.extensions).toEqual([]);
  });

  test('given values are kept', () => {
    const r = resolvePlan(plan((p) => {
      p.verification = { scrubCycleNights: 7 };
      p.images.keepReleases = 12;
      p.datasets[0].allowEmpty = true;
      p.datasets[crmIndex].engineVersion = 17;
      p.datasets[crmIndex].extensions = ['pgcrypto', 'citext'];
    }));
    expect(r.verification.scrubCycleNights).toBe(7);
    expect(r.images.keepReleases).toBe(12);
    expect(r.datasets[0].allowEmpty).toBe(true);
    expect((r.datasets[crmIndex] as PostgresDataset).engineVersion).toBe(17);
    expect((r.datasets[crmIndex] as PostgresDataset).extensions).toEqual(['pgcrypto', 'citext']);
  });
});

describe('plan fields: refusals name the field, the value and the fix', () => {
  test('a server newer than the jobs image\'s pg_dump is refused', () => {
    const line = rejection(plan((p) => { p.datasets[crmIndex].engineVersion = LIMITS.pgClientMajorVersion + 1; }), `datasets[${crmIndex}].engineVersion`);
    expect(line).toContain(String(LIMITS.pgClientMajorVersion + 1));
    expect(line).toMatch(/newer than the jobs image's pg_dump/);
    expect(line).toMatch(/Fix: /);
  });

  test('a minor version string is refused', () => {
    const line = rejection(plan((p) => { p.datasets[crmIndex].engineVersion = '16.4'; }), `datasets[${crmIndex}].engineVersion`);
    expect(line).toContain('"16.4"');
    expect(line).toMatch(/major version/);
  });

  test('an extension name that CREATE EXTENSION would not take is refused', () => {
    const line = rejection(plan((p) => { p.datasets[crmIndex].extensions = ['pgcrypto', 'drop table x;']; }), `datasets[${crmIndex}].extensions[1]`);
    expect(line).toContain('"drop table x;"');
  });

  test('scrubCycleNights out of range is refused; longer than retention is a warning', () => {
    const line = rejection(plan((p) => { p.verification = { scrubCycleNights: 0 }; }), 'verification.scrubCycleNights');
    expect(line).toMatch(/whole number from 1 to 365/);
    const r = resolvePlan(plan((p) => { p.verification = { scrubCycleNights: 60 }; }));
    expect(r.warnings.map((w) => w.field)).toContain('verification.scrubCycleNights');
  });

  test('keepReleases out of range and a non-boolean allowEmpty are refused', () => {
    expect(rejection(plan((p) => { p.images.keepReleases = 0; }), 'images.keepReleases')).toMatch(/1 to 50/);
    expect(rejection(plan((p) => { p.datasets[0].allowEmpty = 'yes'; }), 'datasets[0].allowEmpty')).toContain('"yes"');
  });

  test('a misspelled new field is refused, not ignored', () => {
    expect(rejection(plan((p) => { p.verification = { scrubCycleNight: 7 }; }), 'verification.scrubCycleNight')).toMatch(/not a field/);
  });
});
