/**
 * The Terraform policy (policy/terraform/*.guard, run by cfn-guard through
 * scripts/policy/check-terraform.ts): every rule catches its deliberately broken
 * fixtures (and only that rule fires), and the good fixtures and legitimate
 * variants pass. cfn-guard runs once for the whole fixture set.
 */
import * as fs from 'fs';
import * as path from 'path';
import { checkTerraformFiles, declaredRules, interpretGuardOutput, parseConcatenatedJson, policyParameters, type PolicyParameters, type PolicyReport } from '../../scripts/policy/check-terraform';
import { STATEFUL_TERRAFORM_TYPES } from '../../scripts/policy/stateful-types';
import { BROKEN } from '../../scripts/policy/make-broken-fixtures';
import { referencePlan } from '../../stacks/reference-plan';

const FIXTURES = path.join(__dirname, 'fixtures');
const listDir = (dir: string) => fs.readdirSync(path.join(FIXTURES, dir)).filter((f) => f.endsWith('.tf.json')).sort().map((f) => path.join(FIXTURES, dir, f));
const GOOD = [path.join(FIXTURES, 'gcp-good.tf.json'), path.join(FIXTURES, 'azure-good.tf.json')];
const BROKEN_FILES = listDir('broken');
const VARIANT_FILES = listDir('variants');

const params: PolicyParameters = policyParameters(referencePlan);
let report: PolicyReport;

beforeAll(() => {
  report = checkTerraformFiles([...GOOD, ...VARIANT_FILES, ...BROKEN_FILES], params);
});

const firedRules = (file: string) => [...new Set(report.findings.filter((f) => f.file === file).map((f) => f.rule))].sort();
const ruleOf = (file: string) => path.basename(file).split('--')[0];

describe('Terraform policy rules (cfn-guard)', () => {
  test('parameters come from the plan: 35 days → 3,024,000 s, both counterparties in standby', () => {
    expect(params).toEqual({ retention_seconds: 35 * 86400, retention_days: 35, gcp_mode: 'standby', azure_mode: 'standby' });
  });

  test('the good fixtures pass, with the rules actually evaluated (not skipped)', () => {
    for (const file of GOOD) {
      const r = report.files.find((f) => f.file === file);
      expect(r).toBeDefined();
      expect(firedRules(file)).toEqual([]);
      expect(r!.status).toBe('PASS');
    }
    const gcp = report.files.find((f) => f.file === GOOD[0])!;
    const azure = report.files.find((f) => f.file === GOOD[1])!;
    expect(gcp.compliant).toEqual(expect.arrayContaining(['gcs_bucket_uniform_access', 'gcs_bucket_public_access_prevention', 'gcs_bucket_cmek', 'gcs_bucket_retention',
      'gcp_sql_deletion_protection', 'gcp_sql_backups', 'gcp_standby_not_public', 'stateful_prevent_destroy',
      'gcp_sql_private_ip_only', 'gcp_transfer_never_overwrites', 'gcp_images_by_digest']));
    expect(azure.compliant).toEqual(expect.arrayContaining(['azure_storage_tls12', 'azure_storage_no_shared_key', 'azure_storage_infrastructure_encryption', 'azure_storage_cmk',
      'azure_storage_versioning', 'azure_storage_immutability', 'azure_postgres_deletion_protection', 'azure_postgres_backups', 'azure_standby_not_public', 'stateful_prevent_destroy']));
  });

  test('every declared rule has at least one broken fixture, and every fixture names a declared rule', () => {
    const rules = declaredRules();
    expect(rules.length).toBeGreaterThanOrEqual(17);
    const covered = new Set(BROKEN_FILES.map(ruleOf));
    expect(rules.filter((r) => !covered.has(r))).toEqual([]);
    expect([...covered].filter((r) => !rules.includes(r))).toEqual([]);
  });

  test('the broken fixtures on disk are the ones the generator describes', () => {
    expect(BROKEN_FILES.map((f) => path.basename(f, '.tf.json')).sort()).toEqual(BROKEN.map((m) => m.file).sort());
  });

  test.each(BROKEN_FILES.map((f) => [path.basename(f), f]))('%s is caught by its rule, and only by it', (_name, file) => {
    expect(firedRules(file)).toEqual([ruleOf(file)]);
    for (const finding of report.findings.filter((f) => f.file === file)) {
      expect(finding.resource).toMatch(/^[a-z0-9_]+\.[A-Za-z0-9_-]+$/);
      expect(finding.message.length).toBeGreaterThan(20);
    }
  });

  test.each(VARIANT_FILES.map((f) => [path.basename(f), f]))('legitimate variant %s passes', (_name, file) => {
    expect(firedRules(file)).toEqual([]);
  });

  test('findings name the offending resource: the second bucket, not the vault', () => {
    const file = BROKEN_FILES.find((f) => f.endsWith('gcs_bucket_retention--second-bucket.tf.json'))!;
    expect(report.findings.filter((f) => f.file === file).map((f) => f.resource)).toEqual(['google_storage_bucket.scratch']);
  });

  test('retention is compared with the plan: a plan of 36 days rejects the 35-day good fixtures', () => {
    const longer = checkTerraformFiles(GOOD, { ...params, retention_seconds: 36 * 86400, retention_days: 36 });
    expect([...new Set(longer.findings.map((f) => f.rule))].sort()).toEqual(['azure_storage_immutability', 'gcs_bucket_retention']);
  });

  test('exposure rules apply only in standby: an active plan accepts public ingress', () => {
    const exposed = BROKEN_FILES.filter((f) => /(gcp|azure)_standby_not_public--/.test(f));
    expect(exposed.length).toBeGreaterThanOrEqual(4);
    const active = checkTerraformFiles(exposed, { ...params, gcp_mode: 'active', azure_mode: 'active' });
    expect(active.findings).toEqual([]);
  });

  test('the guard stateful list and the TypeScript stateful list agree', () => {
    const guard = fs.readFileSync(path.join(__dirname, '../../policy/terraform/stateful.guard'), 'utf8');
    const listed = [...guard.matchAll(/^\s*"([a-z0-9_]+)",?\s*$/gm)].map((m) => m[1]).sort();
    expect(listed).toEqual([...STATEFUL_TERRAFORM_TYPES].sort());
  });

  test('the output parser handles concatenated documents and braces inside strings', () => {
    expect(parseConcatenatedJson('{"a":"}{"}\n{"b":[1,{"c":"\\"}"}]}')).toEqual([{ a: '}{' }, { b: [1, { c: '"}' }] }]);
    const r = interpretGuardOutput(JSON.stringify({ name: 'f.json', status: 'FAIL', compliant: [], not_applicable: [], not_compliant: [{ Rule: { name: 'r', checks: [{ Clause: { Unary: { messages: { custom_message: null, error_message: 'boom' }, check: { UnResolved: { value: { traversed_to: { path: '/resource/t/n' } } } } } } }] } }] }));
    expect(r.findings).toEqual([{ rule: 'r', resource: 't.n', message: 'boom', file: 'f.json', path: '/resource/t/n' }]);
  });
});
