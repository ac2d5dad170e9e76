import { PlanValidationError, resolvePlan, validatePlan, type ProtectionPlan } from '../../lib/core';
import { referencePlan } from '../../stacks/reference-plan';

/** A deep-ish copy with overrides, so each test breaks one thing. */
function plan(over: Record<string, unknown> = {}): ProtectionPlan {
  return { ...JSON.parse(JSON.stringify(referencePlan)), ...over } as ProtectionPlan;
}

function errorsOf(p: ProtectionPlan) {
  return validatePlan(p).filter((i) => i.severity === 'error');
}

/** Asserts resolvePlan throws, naming the field, the value and a fix. */
function expectRejected(p: ProtectionPlan, field: string, valueText: string, fixText: RegExp) {
  let thrown: unknown;
  try {
    resolvePlan(p);
  } catch (e) {
    thrown = e;
  }
  expect(thrown).toBeInstanceOf(PlanValidationError);
  const err = thrown as PlanValidationError;
  const issue = err.issues.find((i) => i.field === field);
  expect(issue).toBeDefined();
  const line = err.message.split('\n').find((l) => l.includes(`- ${field} = `) && l.includes(valueText));
  expect(line).toBeDefined();
  expect(line).toContain(valueText);
  expect(line).toMatch(/Fix: /);
  expect(line).toMatch(fixText);
}

describe('protection plan validation', () => {
  test('the reference plan is valid and resolves with defaults', () => {
    expect(errorsOf(referencePlan)).toEqual([]);
    const r = resolvePlan(referencePlan);
    expect(r.schedule).toEqual({ cron: '0 2 * * *', timeZone: 'UTC', exportWindowHours: 3 });
    expect(r.immutability.mode).toBe('governance');
    expect(r.immutability.lock).toBe(false);
    expect(r.counterparties.azure?.tokenAudience).toBe('api://acme-cc-aws-federation');
    expect(r.warnings).toEqual([]);
  });

  test('defaults: 02:00 UTC, RPO 24 h, governance', () => {
    const p = plan();
    delete (p as { schedule?: unknown }).schedule;
    delete (p as { rpoHours?: unknown }).rpoHours;
    delete (p as { immutability?: unknown }).immutability;
    const r = resolvePlan(p);
    expect(r.schedule.cron).toBe('0 2 * * *');
    expect(r.schedule.timeZone).toBe('UTC');
    expect(r.rpoHours).toBe(24);
    expect(r.immutability).toMatchObject({ mode: 'governance', lock: false, vaultLockChangeableForHours: 72 });
  });

  test.each([
    ['0 2 * *', /expected 5 fields/],
    ['61 2 * * *', /minute value 61 is outside 0-59/],
    ['0 two * * *', /hour field has "two"/],
    ['0 5-2 * * *', /runs backwards/],
  ])('an invalid cron %p is refused', (cron, detail) => {
    expectRejected(plan({ schedule: { cron } }), 'schedule.cron', JSON.stringify(cron), /5 fields/);
    expect(() => resolvePlan(plan({ schedule: { cron } }))).toThrow(detail);
  });

  test('a cron that fires more than once a day is refused', () => {
    expectRejected(plan({ schedule: { cron: '0 */6 * * *' } }), 'schedule.cron', '"0 */6 * * *"', /single minute and hour/);
  });

  test('an unknown time zone is refused', () => {
    expectRejected(plan({ schedule: { timeZone: 'Mars/Olympus' } }), 'schedule.timeZone', '"Mars/Olympus"', /Europe\/Berlin/);
  });

  test('an RPO the schedule cannot meet is refused', () => {
    expectRejected(plan({ schedule: { cron: '0 2 * * 1-5' }, rpoHours: 24 }), 'rpoHours', '24', /at least 72/);
  });

  test('retention shorter than the RPO is refused', () => {
    expectRejected(plan({ rpoHours: 72, retentionDays: 2 }), 'retentionDays', '2', /at least 3/);
  });

  test('retention over the provider maximum is refused', () => {
    expectRejected(plan({ retentionDays: 40000 }), 'retentionDays', '40000', /36500 or less/);
  });

  test.each([0, 1.5, '35', Number.NaN])('retention %p that is not a whole number of days is refused', (v) => {
    expect(errorsOf(plan({ retentionDays: v })).map((i) => i.field)).toContain('retentionDays');
  });

  test('a counterparty outside residency is refused, naming the allowed regions', () => {
    const p = plan();
    (p.counterparties.gcp as { region: string }).region = 'us-central1';
    expectRejected(p, 'counterparties.gcp.region', '"us-central1"', /europe-west3/);
    const q = plan();
    (q.counterparties.azure as { location: string }).location = 'eastus';
    expectRejected(q, 'counterparties.azure.location', '"eastus"', /westeurope/);
  });

  test('a primary outside residency is refused', () => {
    expectRejected(plan({ primary: { account: '111122223333', region: 'us-east-1' } }), 'primary.region', '"us-east-1"', /eu-central-1/);
  });

  test('residency can list exact regions', () => {
    const p = plan({ residency: { allowed: ['eu-central-1', 'europe-west3', 'germanywestcentral'] } });
    expect(errorsOf(p)).toEqual([]);
  });

  test('a counterparty on the same provider as the primary is refused', () => {
    const p = plan();
    (p.counterparties as Record<string, unknown>).aws = { account: '222233334444', region: 'eu-west-1' };
    expectRejected(p, 'counterparties.aws', '222233334444', /gcp or azure/);
  });

  test('an AWS region given as the GCP region is refused', () => {
    const p = plan();
    (p.counterparties.gcp as { region: string }).region = 'eu-west-1';
    expectRejected(p, 'counterparties.gcp.region', '"eu-west-1"', /europe-west3/);
  });

  test('no counterparty at all is refused', () => {
    expectRejected(plan({ counterparties: {} }), 'counterparties', '{}', /counterparties.gcp/);
  });

  test('duplicate dataset names are refused', () => {
    const p = plan();
    (p.datasets as unknown[]).push({ kind: 's3Bucket', name: 'recordings', bucketName: 'other-bucket' });
    expectRejected(p, 'datasets[4].name', '"recordings"', /its own name/);
    expect(() => resolvePlan(p)).toThrow(/duplicates datasets\[0\]\.name/);
  });

  test('a derived S3 bucket name that breaks the rules is refused, naming the derived name', () => {
    const p = plan({ system: 'a-very-long-system-name-x' });
    expect(() => resolvePlan(p)).toThrow(/system = "a-very-long-system-name-x"/);
    // 24 characters is a valid system name, but with a long region the access-log bucket passes 63.
    const q = plan({ system: 'contact-centre-prod-main', primary: { account: '111122223333', region: 'ap-southeast-4' }, residency: undefined });
    expectRejected(q, 'system', '"contact-centre-prod-main-access-logs-111122223333-ap-southeast-4"', /shorten system/);
  });

  test('a derived Azure storage account name over 24 characters is refused', () => {
    const p = plan({ system: 'contactcentreprodeu' + 'x' });
    (p.counterparties as Record<string, unknown>).gcp = undefined;
    expectRejected(p, 'system', '"contactcentreprodeuxvault"', /3-24 lowercase alphanumerics/);
  });

  test('a derived GCS bucket name containing "google" is refused', () => {
    const p = plan();
    (p.counterparties.gcp as { projectId: string }).projectId = 'google-dr-01';
    expectRejected(p, 'counterparties.gcp.projectId', '"acme-cc-vault-google-dr-01"', /shorter project ID/);
  });

  test('a derived GCP service account ID over 30 characters is refused', () => {
    const p = plan({ system: 'contact-centre-prod-wxyz' });
    (p.counterparties as Record<string, unknown>).azure = undefined;
    expectRejected(p, 'system', '"contact-centre-prod-wxyz-verify"', /30 characters/);
  });

  test('compliance mode without the explicit opt-in is refused', () => {
    expectRejected(plan({ immutability: { mode: 'compliance' } }), 'immutability.mode', '"compliance"', /acknowledgeComplianceIsIrreversible: true/);
    expect(errorsOf(plan({ immutability: { mode: 'compliance', acknowledgeComplianceIsIrreversible: true } }))).toEqual([]);
  });

  test('lock without the explicit opt-in is refused, separately from compliance', () => {
    expectRejected(plan({ immutability: { mode: 'compliance', acknowledgeComplianceIsIrreversible: true, lock: true } }), 'immutability.lock', 'true', /acknowledgeLockIsIrreversible: true/);
    expect(errorsOf(plan({ immutability: { lock: true, acknowledgeLockIsIrreversible: true } }))).toEqual([]);
  });

  test('a string "true" is not an opt-in', () => {
    expect(errorsOf(plan({ immutability: { lock: true, acknowledgeLockIsIrreversible: 'true' } })).map((i) => i.field))
      .toEqual(expect.arrayContaining(['immutability.acknowledgeLockIsIrreversible', 'immutability.lock']));
  });

  test('a Vault Lock grace period under 72 hours is refused', () => {
    expectRejected(plan({ immutability: { vaultLockChangeableForHours: 24 } }), 'immutability.vaultLockChangeableForHours', '24', /at least 72/);
  });

  test('a Vault Lock grace period that is not whole days is refused (AWS takes ChangeableForDays)', () => {
    expectRejected(plan({ immutability: { vaultLockChangeableForHours: 73 } }), 'immutability.vaultLockChangeableForHours', '73', /multiple of 24, e\.g\. 72/);
    expect(errorsOf(plan({ immutability: { vaultLockChangeableForHours: 96 } }))).toEqual([]);
  });

  test('s3Bucket datasets with no postgres dataset need primary.jobsNetwork', () => {
    const p = plan({ datasets: [referencePlan.datasets[0]] });
    expectRejected(p, 'primary.jobsNetwork', '(not set)', /vpcId, subnetIds, securityGroupIds/);
    const network = { vpcId: 'vpc-0a1b2c3d', subnetIds: ['subnet-0a1b2c3d'], securityGroupIds: ['sg-0a1b2c3d'] };
    expect(errorsOf(plan({ datasets: [referencePlan.datasets[0]], primary: { ...referencePlan.primary, jobsNetwork: network } }))).toEqual([]);
    expect(resolvePlan(plan({ datasets: [referencePlan.datasets[0]], primary: { ...referencePlan.primary, jobsNetwork: network } })).primary.jobsNetwork).toEqual(network);
    expectRejected(plan({ primary: { ...referencePlan.primary, jobsNetwork: { ...network, subnetIds: [] } } }), 'primary.jobsNetwork.subnetIds', '[]', /private subnets/);
  });

  test('an unknown empty or odd key is named with brackets, never as an empty field', () => {
    expectRejected(plan({ '': [] }), '[""]', '[]', /retentionDays/);
    expectRejected(plan({ 'retention days': 35 }), '["retention days"]', '35', /retentionDays/);
  });

  test('a non-string cron names its value without [object Object]', () => {
    const p = plan({ schedule: { cron: { hour: 2 } } });
    expectRejected(p, 'schedule.cron', '{"hour":2}', /5 fields/);
    expect(() => resolvePlan(p)).toThrow(/invalid cron expression \{"hour":2\}: it must be a string/);
  });

  test('a dynamoDbTable without PITR is refused', () => {
    const p = plan();
    (p.datasets[1] as { pointInTimeRecovery: boolean }).pointInTimeRecovery = false;
    expectRejected(p, 'datasets[1].pointInTimeRecovery', 'false', /enable PITR/);
  });

  test('an unknown dataset kind is refused, listing the kinds', () => {
    const p = plan();
    (p.datasets as unknown[]).push({ kind: 'efs', name: 'files' });
    expectRejected(p, 'datasets[4].kind', '"efs"', /s3Bucket, dynamoDbTable, postgres, connectInstance/);
  });

  test('a misspelled field is refused rather than silently ignored', () => {
    expectRejected(plan({ retentionDay: 35 }), 'retentionDay', '35', /retentionDays/);
  });

  test('bad postgres, connect and account fields name themselves', () => {
    const p = plan({ primary: { account: '1234', region: 'eu-central-1' } });
    (p.datasets[2] as { port: number }).port = 70000;
    (p.datasets[3] as { instanceId: string }).instanceId = 'not-a-uuid';
    const fields = errorsOf(p).map((i) => i.field);
    expect(fields).toEqual(expect.arrayContaining(['primary.account', 'datasets[2].port', 'datasets[3].instanceId']));
  });

  test('a missing STS subject or Azure principal is a warning, not an error', () => {
    const p = plan();
    delete (p.counterparties.gcp as { storageTransferSubjectId?: string }).storageTransferSubjectId;
    delete (p.counterparties.azure as { copyIdentityPrincipalId?: string }).copyIdentityPrincipalId;
    const r = resolvePlan(p);
    expect(r.warnings.map((w) => w.field)).toEqual(['counterparties.gcp.storageTransferSubjectId', 'counterparties.azure.copyIdentityPrincipalId']);
    expect(r.warnings[0].fix).toMatch(/storage_transfer_subject_id/);
  });

  test('every error is reported at once', () => {
    const p = plan({ retentionDays: 0, schedule: { cron: 'x' }, immutability: { mode: 'compliance' } });
    expect(errorsOf(p).length).toBeGreaterThanOrEqual(3);
  });

  test('garbage input never throws from validatePlan and never prints [object Object]', () => {
    for (const junk of [null, undefined, 42, 'plan', [], { system: {} }, { datasets: [null, 1, 'x'] }]) {
      const issues = validatePlan(junk as unknown as ProtectionPlan);
      expect(issues.length).toBeGreaterThan(0);
      expect(() => resolvePlan(junk as unknown as ProtectionPlan)).toThrow(PlanValidationError);
      try {
        resolvePlan(junk as unknown as ProtectionPlan);
      } catch (e) {
        expect((e as Error).message).not.toMatch(/\[object Object\]|NaN/);
      }
    }
  });
});
