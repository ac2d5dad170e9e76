/**
 * The synthesized GCP stack passes the project's Terraform policy (policy/terraform/*.guard, cfn-guard),
 * from the reference plan, in active mode and while bootstrapping; and a deliberately broken copy is caught.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { checkTerraformFiles, policyParameters } from '../../scripts/policy/check-terraform';
import { planWith, synthStack } from './helpers';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cp-gcp-policy-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

function write(name: string, json: unknown): string {
  const file = path.join(dir, `${name}.tf.json`);
  fs.writeFileSync(file, JSON.stringify(json));
  return file;
}

const reference = synthStack().json;
const variants = {
  reference,
  active: synthStack(planWith({}, { mode: 'active' })).json,
  bootstrap: synthStack(planWith({}, { bootstrap: true })).json,
};

test('reference, active and bootstrap stacks: no findings, and the GCP rules were evaluated', () => {
  const files = Object.entries(variants).map(([name, json]) => write(name, json));
  const params = policyParameters(planWith());
  const standby = checkTerraformFiles([files[0], files[2]], params);
  const active = checkTerraformFiles([files[1]], { ...params, gcp_mode: 'active' });
  expect([...standby.findings, ...active.findings]).toEqual([]);
  const ref = standby.files.find((f) => f.file === files[0])!;
  expect(ref.compliant).toEqual(expect.arrayContaining(['gcp_sql_private_ip_only', 'gcp_transfer_never_overwrites', 'gcp_images_by_digest', 'gcp_standby_not_public', 'stateful_prevent_destroy']));
});

test('a copy with a tag instead of a digest, a public IP and an overwriting transfer is caught by exactly those rules', () => {
  const broken = JSON.parse(JSON.stringify(reference));
  const job = Object.values(broken.resource.google_cloud_run_v2_job as Record<string, any>)[0];
  job.template.template.containers[0].image = 'europe-west3-docker.pkg.dev/acme-cc-dr/acme-cc-images/counterparty-jobs:0.1.0';
  Object.values(broken.resource.google_sql_database_instance as Record<string, any>)[0].settings.ip_configuration.ipv4_enabled = true;
  Object.values(broken.resource.google_storage_transfer_job as Record<string, any>)[0].transfer_spec.transfer_options.overwrite_when = 'DIFFERENT';
  const report = checkTerraformFiles([write('broken', broken)], policyParameters(planWith()));
  expect([...new Set(report.findings.map((f) => f.rule))].sort()).toEqual(['gcp_images_by_digest', 'gcp_sql_private_ip_only', 'gcp_transfer_never_overwrites']);
});
