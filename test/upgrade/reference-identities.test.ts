/**
 * Upgrade safety of the reference app, on real synthesized outputs (both
 * engines, synthesized once for this file):
 * - every stateful identity in test/upgrade/stateful-identities.json still
 *   exists with the same type (else: how to migrate instead);
 * - every stateful resource in ALL outputs (by type, not by name) is
 *   DeletionPolicy/UpdateReplacePolicy Retain or lifecycle.prevent_destroy.
 *
 * Regenerate the record only with a documented migration:
 *   npx cdk synth --quiet && CHECKPOINT_DISABLE=1 npx cdktf synth && npm run upgrade-check -- --record
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { App as CdkApp } from 'aws-cdk-lib';
import { App as TfApp } from 'cdktf';
import { checkIdentities, retentionViolations, type IdentityRecord } from '../../scripts/upgrade-check/identities';
import { readOutputs, type SynthOutputs } from '../../scripts/upgrade-check/outputs';
import { ContactCentrePrimaryStack } from '../../stacks/primary-stack';
import { GcpCounterpartyStack } from '../../stacks/gcp-counterparty-stack';
import { AzureCounterpartyStack } from '../../stacks/azure-counterparty-stack';
import { referencePlan } from '../../stacks/reference-plan';

const ROOT = path.resolve(__dirname, '../..');
const record = JSON.parse(fs.readFileSync(path.join(__dirname, 'stateful-identities.json'), 'utf8')) as IdentityRecord;
let tmp: string;
let outputs: SynthOutputs;

beforeAll(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'cp-reference-synth-'));
  // The same stacks, IDs and context as bin/primary.ts and bin/counterparty.ts (without the cdk-nag plugins,
  // which the AWS tests run, and without asset bundling, which does not change logical IDs or policies).
  const context = (JSON.parse(fs.readFileSync(path.join(ROOT, 'cdk.json'), 'utf8')) as { context: Record<string, unknown> }).context;
  const cdk = new CdkApp({ outdir: path.join(tmp, 'cdk.out'), context: { ...context, 'aws:cdk:bundling-stacks': [] } });
  new ContactCentrePrimaryStack(cdk, `${referencePlan.system}-primary`, { plan: referencePlan });
  cdk.synth();
  const tf = new TfApp({ outdir: path.join(tmp, 'cdktf.out') });
  new GcpCounterpartyStack(tf, 'counterparty-gcp', { plan: referencePlan });
  new AzureCounterpartyStack(tf, 'counterparty-azure', { plan: referencePlan });
  tf.synth();
  outputs = readOutputs(tmp);
});

afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

describe('reference app upgrade safety', () => {
  test('the synth has both engines', () => {
    expect(outputs.cloudFormationTemplates.length).toBeGreaterThanOrEqual(1);
    expect(outputs.terraformFiles.length).toBe(2);
  });

  test('the committed record is not empty and covers both engines', () => {
    const count = (byStack: Record<string, Record<string, string>>) => Object.values(byStack).reduce((n, ids) => n + Object.keys(ids).length, 0);
    expect(count(record.cloudformation)).toBeGreaterThan(0);
    expect(count(record.terraform)).toBeGreaterThan(0);
  });

  test('no recorded stateful identity disappears or changes type', () => {
    const problems = checkIdentities(record, outputs);
    expect(problems.map((p) => `${p.engine}: ${p.problem}`)).toEqual([]);
  });

  test('every stateful resource in every output is Retain / prevent_destroy (by type, not by name)', () => {
    expect(outputs.resources.filter((r) => r.stateful).length).toBeGreaterThan(5);
    expect(retentionViolations(outputs).map((v) => `${v.engine} ${v.stack} ${v.id} (${v.type}): ${v.problem}`)).toEqual([]);
  });
});
