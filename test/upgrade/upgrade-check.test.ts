/**
 * `npm run upgrade-check`: before/after fixture synth directories (each with a
 * cdk.out/ and a cdktf.out/) and what the comparison reports.
 */
import { spawnSync } from 'child_process';
import * as path from 'path';
import { compareOutputs } from '../../scripts/upgrade-check/compare';
import { checkIdentities, recordIdentities, retentionViolations } from '../../scripts/upgrade-check/identities';
import { locateOutputs, readOutputs } from '../../scripts/upgrade-check/outputs';

const F = (name: string) => path.join(__dirname, 'fixtures', name);
const before = readOutputs(F('before'));
const summary = (after: string) => compareOutputs(before, readOutputs(F(after))).map((c) => `${c.stateful ? 'S' : '-'} ${c.kind} ${c.id}`);

describe('upgrade-check', () => {
  test('reads both engines from a synth directory, or from cdk.out / cdktf.out directly', () => {
    expect(before.cloudFormationTemplates).toHaveLength(1);
    expect(before.terraformFiles).toHaveLength(1);
    expect(before.resources.filter((r) => r.engine === 'cloudformation')).toHaveLength(7);
    expect(before.resources.filter((r) => r.engine === 'terraform')).toHaveLength(5);
    expect(locateOutputs(F('before/cdk.out'))).toEqual({ cdkOut: F('before/cdk.out'), cdktfOut: undefined });
    expect(locateOutputs(F('before/cdktf.out'))).toEqual({ cdkOut: undefined, cdktfOut: F('before/cdktf.out') });
    expect(() => locateOutputs(F('before/cdktf.out/stacks/counterparty-gcp'))).toThrow(/neither cdk\.out\/ nor cdktf\.out\//);
  });

  test('an identical synth changes nothing', () => {
    expect(compareOutputs(before, readOutputs(F('before')))).toEqual([]);
  });

  test('safe upgrade: stateless property changes, in-place database_version upgrade, added resources, and a rename with a moved block', () => {
    expect(summary('after-safe')).toEqual([]);
  });

  test('stateless deletions and replacements are listed but are not stateful', () => {
    expect(summary('after-stateless')).toEqual([
      '- delete NightlyRule55443322',
      '- replace ReaderRoleABCDEF01',
      '- delete google_cloud_run_v2_service.Counterparty_Standby_App_DEF0',
    ]);
  });

  test('breaking upgrade: renamed logical ID, replacement-requiring property, type change, renamed address, ForceNew attribute; stateful first', () => {
    const changes = compareOutputs(before, readOutputs(F('after-breaking')));
    expect(changes.map((c) => `${c.stateful ? 'S' : '-'} ${c.kind} ${c.id}`)).toEqual([
      'S delete ExportBucket5E6F7A8B',
      'S replace PipelineLogs12345678',
      'S replace VaultC0FFEE00',
      'S replace google_kms_key_ring.Counterparty_Keys_Ring_5678',
      'S delete google_storage_bucket.Counterparty_Vault_Bucket_1234',
    ]);
    expect(changes.find((c) => c.id === 'VaultC0FFEE00')!.reason).toBe('replacement-requiring property changed: BackupVaultName: "acme-cc-vault" → "acme-cc-vault-2"');
    expect(changes.find((c) => c.id === 'ExportBucket5E6F7A8B')!.migration).toMatch(/overrideLogicalId\('ExportBucket5E6F7A8B'\)/);
    expect(changes.find((c) => c.id.startsWith('google_storage_bucket'))!.migration).toMatch(/moved .*terraform state mv google_storage_bucket\.Counterparty_Vault_Bucket_1234/s);
  });

  test('the CLI exits 1 when a stateful resource would go, 0 when only stateless ones would, 2 on bad usage', () => {
    const run = (...args: string[]) => spawnSync(process.execPath, [require.resolve('ts-node/dist/bin.js'), '--transpile-only', path.join(__dirname, '../../scripts/upgrade-check.ts'), ...args], { encoding: 'utf8' });
    const breaking = run(F('before'), F('after-breaking'));
    expect(breaking.status).toBe(1);
    expect(breaking.stdout).toMatch(/^STATEFUL DELETE cloudformation acme-cc-primary ExportBucket5E6F7A8B/m);
    expect(breaking.stdout).toMatch(/5 resource\(s\) would be deleted or replaced, 5 of them stateful/);
    const stateless = run(F('before'), F('after-stateless'));
    expect(stateless.status).toBe(0);
    expect(stateless.stdout).toMatch(/3 resource\(s\) would be deleted or replaced, 0 of them stateful/);
    expect(run(F('before')).status).toBe(2);
  });

  test('identity record: taken from the stateful resources only; a lost identity names the migration', () => {
    const record = recordIdentities(before);
    expect(record.cloudformation['acme-cc-primary']).toEqual({
      ExportBucket5E6F7A8B: 'AWS::S3::Bucket', ExportBucketKey1A2B3C4D: 'AWS::KMS::Key', PipelineLogs12345678: 'AWS::Logs::LogGroup', VaultC0FFEE00: 'AWS::Backup::BackupVault',
    });
    expect(Object.keys(record.terraform['counterparty-gcp']).sort()).toEqual([
      'google_kms_key_ring.Counterparty_Keys_Ring_5678', 'google_sql_database_instance.Counterparty_Standby_Db_9ABC', 'google_storage_bucket.Counterparty_Vault_Bucket_1234',
    ]);
    expect(checkIdentities(record, readOutputs(F('after-safe')))).toEqual([]);
    const problems = checkIdentities(record, readOutputs(F('after-breaking')));
    expect(problems.map((p) => p.id)).toEqual(['ExportBucket5E6F7A8B', 'PipelineLogs12345678', 'google_storage_bucket.Counterparty_Vault_Bucket_1234']);
    expect(problems[0].problem).toMatch(/overrideLogicalId/);
    expect(problems[2].problem).toMatch(/moved|terraform state mv/);
  });

  test('retention walk: every stateful fixture resource is Retain / prevent_destroy, and a missing one is caught', () => {
    expect(retentionViolations(before)).toEqual([]);
    const stripped = { ...before, resources: before.resources.map((r) => (r.id === 'VaultC0FFEE00' ? { ...r, updateReplacePolicy: undefined } : r.id.startsWith('google_kms_key_ring') ? { ...r, preventDestroy: false } : r)) };
    expect(retentionViolations(stripped).map((v) => v.id)).toEqual(['VaultC0FFEE00', 'google_kms_key_ring.Counterparty_Keys_Ring_5678']);
  });
});
