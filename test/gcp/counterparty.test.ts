/**
 * The composed GCP counterparty, synthesized from plans: the cross-engine
 * contract (role ARN, source bucket, subject ID output), immutability, the
 * standby/active switch, secrets, preventDestroy on every stateful resource,
 * plan-level errors and warnings, and a snapshot of the reference stack.
 */
import 'cdktf/lib/testing/adapters/jest';
import { Testing, TerraformStack } from 'cdktf';
import { StorageBucket } from '@cdktf/provider-google/lib/storage-bucket';
import { CloudRunV2Service } from '@cdktf/provider-google/lib/cloud-run-v2-service';
import { counterpartySchedule, naming, resolvePlan } from '../../lib/core';
import { GCP_OUTPUTS, GcpCounterparty } from '../../lib/gcp';
import { referencePlan } from '../../stacks/reference-plan';
import { only, planWith, resources, synthStack, type TfJson } from './helpers';

import { STATEFUL_TERRAFORM_TYPES } from '../../scripts/policy/stateful-types';

Testing.setupJest();

/** Terraform types that hold data or identity that must never be replaced by an upgrade: the project's one list. */
const STATEFUL_TYPES = STATEFUL_TERRAFORM_TYPES.filter((t) => t.startsWith('google_'));

function walk(value: unknown, visit: (key: string, v: unknown, path: string) => void, path = ''): void {
  if (Array.isArray(value)) value.forEach((v, i) => walk(v, visit, `${path}[${i}]`));
  else if (value && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) {
      visit(k, v, `${path}.${k}`);
      walk(v, visit, `${path}.${k}`);
    }
  }
}

describe('GcpCounterparty from the reference plan', () => {
  const { json, text } = synthStack();
  const plan = resolvePlan(referencePlan);

  test('the transfer pulls the contract export bucket with exactly the contract role ARN, keyless', () => {
    const job = only(json, 'google_storage_transfer_job');
    expect(job.transfer_spec.aws_s3_data_source).toEqual({ bucket_name: naming.exportBucketName(plan), role_arn: naming.gcpReaderRoleArn(plan) });
    expect(job.transfer_spec.gcs_data_sink).toEqual({ bucket_name: naming.gcsVaultBucketName(plan, 'acme-cc-dr') });
    expect(json.output![GCP_OUTPUTS.gcpReaderRoleArn].value).toBe(naming.gcpReaderRoleArn(plan));
  });

  test('storage_transfer_subject_id is output under its stable name, from the transfer service account', () => {
    expect(json.output!.storage_transfer_subject_id.value).toMatch(/^\$\{data\.google_storage_transfer_project_service_account\.[\w-]+\.subject_id\}$/);
    const [dataId] = Object.keys(json.data!.google_storage_transfer_project_service_account);
    expect(json.output!.storage_transfer_subject_id.value).toBe(`\${data.google_storage_transfer_project_service_account.${dataId}.subject_id}`);
    expect(json.output!.storage_transfer_subject_id.description).toMatch(/counterparties\.gcp\.storageTransferSubjectId/);
  });

  test('no AWS access keys anywhere in the output', () => {
    expect(text).not.toMatch(/aws_access_key|access_key_id|secret_access_key|AKIA[0-9A-Z]{16}/i);
  });

  test('no plaintext password: every password-like field is a reference to random_password', () => {
    const found: string[] = [];
    walk(json.resource, (key, v, path) => {
      if (/password|secret_data/i.test(key) && typeof v === 'string') {
        found.push(path);
        expect(v).toMatch(/^\$\{random_password\.[\w-]+\.result\}$/);
      }
    });
    expect(found.length).toBe(2); // the secret version and the SQL user
    expect(json.resource.random_password).toBeDefined();
  });

  test('every stateful resource has lifecycle.preventDestroy', () => {
    for (const type of STATEFUL_TYPES) {
      const list = Object.entries(json.resource[type] ?? {});
      expect([type, list.length > 0]).toEqual([type, true]);
      for (const [id, r] of list) expect([type, id, r.lifecycle?.prevent_destroy]).toEqual([type, id, true]);
    }
  });

  test('the vault: plan retention in seconds, unlocked, UBLA, PAP, CMEK with the counterparty key, labels', () => {
    expect(text).toHaveResourceWithProperties(StorageBucket, {
      name: 'acme-cc-vault-acme-cc-dr', location: 'europe-west3', uniform_bucket_level_access: true, public_access_prevention: 'enforced',
      retention_policy: { retention_period: 35 * 86_400, is_locked: false },
    });
    const bucket = only(json, 'google_storage_bucket');
    expect(bucket.encryption.default_kms_key_name).toMatch(/^\$\{google_kms_crypto_key\.Counterparty_Keys_Key_[0-9A-F]+\.id\}$/);
    expect(bucket.labels).toMatchObject({ system: 'acme-cc', datasets: 'recordings_contact-records_crm_connect' });
    // Nothing on GCP refers to an AWS KMS key.
    expect(text).not.toMatch(/arn:aws:kms/);
  });

  test('the vault locks only with the plan opt-in', () => {
    const locked = synthStack(planWith({ immutability: { lock: true, acknowledgeLockIsIrreversible: true } })).json;
    expect(only(locked, 'google_storage_bucket').retention_policy).toEqual({ retention_period: 35 * 86_400, is_locked: true });
    expect(() => synthStack(planWith({ immutability: { lock: true } }))).toThrow(/immutability\.lock = true: locks GCS retention.*acknowledgeLockIsIrreversible/);
  });

  test('transfer and verify run on the plan-derived schedule', () => {
    const s = counterpartySchedule(plan);
    expect(only(json, 'google_storage_transfer_job').schedule.start_time_of_day).toEqual({ hours: s.copyUtc.hour, minutes: s.copyUtc.minute, seconds: 0, nanos: 0 });
    expect(only(json, 'google_cloud_scheduler_job').schedule).toBe(s.verifyCronUtc);
    expect([s.copyUtc, s.verifyCronUtc]).toEqual([{ hour: 5, minute: 0 }, '0 6 * * *']);
    const berlin = synthStack(planWith({ schedule: { cron: '30 1 * * *', timeZone: 'Europe/Berlin' } })).json;
    // 01:30 Berlin is 23:30 UTC in summer, 00:30 in winter; the later one plus the 3 h window is 03:30 UTC.
    expect(only(berlin, 'google_storage_transfer_job').schedule.start_time_of_day).toMatchObject({ hours: 3, minutes: 30 });
  });

  test('images come from this project\'s Artifact Registry, never from ECR', () => {
    expect(only(json, 'google_cloud_run_v2_job').template.template.containers[0].image).toBe('europe-west3-docker.pkg.dev/acme-cc-dr/acme-cc-images/counterparty-jobs:0.1.0');
    expect(only(json, 'google_cloud_run_v2_service').template.containers[0].image).toBe('europe-west3-docker.pkg.dev/acme-cc-dr/acme-cc-images/contact-centre-app:2.3.1');
    expect(text).not.toMatch(/dkr\.ecr|amazonaws\.com/);
  });

  test('standby: scaled to zero, internal ingress; active: warm and public (the failover switch)', () => {
    expect(text).toHaveResourceWithProperties(CloudRunV2Service, { name: 'acme-cc-app', ingress: 'INGRESS_TRAFFIC_INTERNAL_ONLY' });
    expect(only(json, 'google_cloud_run_v2_service').template.scaling.min_instance_count).toBe(0);
    const active = synthStack(planWith({}, { mode: 'active' }));
    expect(active.text).toHaveResourceWithProperties(CloudRunV2Service, { name: 'acme-cc-app', ingress: 'INGRESS_TRAFFIC_ALL' });
    expect(only(active.json, 'google_cloud_run_v2_service').template.scaling.min_instance_count).toBeGreaterThanOrEqual(1);
    // Once active, the nightly restore must not overwrite the live database.
    expect([only(json, 'google_cloud_scheduler_job').paused, only(active.json, 'google_cloud_scheduler_job').paused]).toEqual([false, true]);
    // The switch changes only the service: the data side is identical.
    const dataSide = (j: TfJson) => JSON.stringify(['google_storage_bucket', 'google_sql_database_instance', 'google_storage_transfer_job', 'google_kms_crypto_key'].map((t) => j.resource[t]));
    expect(dataSide(active.json)).toBe(dataSide(json));
  });

  test('the standby database: deletion protection, backups, CMEK, no authorized networks; private IP when the plan gives a network', () => {
    const db = only(json, 'google_sql_database_instance');
    expect(db).toMatchObject({ deletion_protection: true, settings: { deletion_protection_enabled: true, backup_configuration: { enabled: true }, ip_configuration: { authorized_networks: [], ssl_mode: 'ENCRYPTED_ONLY' } } });
    expect(db.encryption_key_name).toMatch(/google_kms_crypto_key\.Counterparty_Keys_Key_/);
    expect(db.depends_on).toEqual(expect.arrayContaining([expect.stringMatching(/sqladmin-agent-uses-key/)]));
    const network = 'projects/acme-cc-dr/global/networks/dr';
    const priv = synthStack(planWith({}, { network })).json;
    expect(only(priv, 'google_sql_database_instance').settings.ip_configuration).toMatchObject({ ipv4_enabled: false, private_network: network });
    const env = only(priv, 'google_cloud_run_v2_job').template.template.containers[0].env;
    expect(env.find((e: any) => e.name === 'PGHOST').value).toMatch(/google_sql_database_instance\.[\w-]+\.private_ip_address/);
  });

  test('alerts notify the plan\'s e-mail, or the plan\'s channels when given', () => {
    expect(only(json, 'google_monitoring_notification_channel').labels).toEqual({ email_address: 'oncall@acme.example' });
    const withChannels = synthStack(planWith({}, { notificationChannels: ['projects/acme-cc-dr/notificationChannels/7'] })).json;
    expect(withChannels.resource.google_monitoring_notification_channel).toBeUndefined();
    expect(resources(withChannels, 'google_monitoring_alert_policy').map((p) => p.notification_channels)).toEqual([['projects/acme-cc-dr/notificationChannels/7'], ['projects/acme-cc-dr/notificationChannels/7']]);
  });

  test('providers: the plan\'s project and region, tags as default labels (hyphens kept)', () => {
    for (const p of ['google', 'google-beta']) {
      expect(json.provider![p][0]).toEqual({ project: 'acme-cc-dr', region: 'europe-west3', default_labels: { system: 'acme-cc', 'cost-centre': 'contact-centre', 'managed-by': 'counterparty' } });
    }
  });

  test('snapshot of the reference stack (paired with the assertions above)', () => {
    expect(json).toMatchSnapshot();
  });
});

describe('GcpCounterparty plan errors and warnings', () => {
  test('a plan without counterparties.gcp is refused, naming the construct and the fix', () => {
    const stack = new TerraformStack(Testing.app(), 's');
    const azureOnly = { ...referencePlan, counterparties: { azure: referencePlan.counterparties.azure } };
    expect(() => new GcpCounterparty(stack, 'Gcp', { plan: azureOnly })).toThrow(/^s\/Gcp: plan\.counterparties\.gcp = \(not set\) is not set.*Fix: add counterparties\.gcp/);
  });

  test('a region outside residency is refused by the plan', () => {
    expect(() => synthStack(planWith({}, { region: 'us-central1' }))).toThrow(/counterparties\.gcp\.region = "us-central1": is outside the plan's residency \(eu\)/);
  });

  test('a missing STS subject gives a synth warning naming the field and the output to copy', () => {
    const { stack } = synthStack(planWith({}, { storageTransferSubjectId: undefined }));
    const warnings = stack.counterparty.node.metadata.map((m) => String(m.data));
    expect(warnings).toEqual(expect.arrayContaining([expect.stringMatching(/counterparties\.gcp\.storageTransferSubjectId = \(not set\).*storage_transfer_subject_id/)]));
    const withSubject = synthStack().stack.counterparty.node.metadata.map((m) => String(m.data));
    expect(withSubject.filter((w) => /storageTransferSubjectId/.test(w))).toEqual([]);
  });

  test('a derived vault bucket name that breaks the GCS rules is refused', () => {
    expect(() => synthStack(planWith({}, { projectId: 'googlers-dr' }))).toThrow(/counterparties\.gcp\.projectId = "acme-cc-vault-googlers-dr": derives GCS bucket name/);
  });
});
