/**
 * The GCP constructs used alone: each property that matters, and each
 * validation error with the construct path, the prop, the value and the fix.
 */
import 'cdktf/lib/testing/adapters/jest';
import { Testing, TerraformStack } from 'cdktf';
import { StorageBucket } from '@cdktf/provider-google/lib/storage-bucket';
import { KmsCryptoKey } from '@cdktf/provider-google/lib/kms-crypto-key';
import { StorageTransferJob } from '@cdktf/provider-google/lib/storage-transfer-job';
import { MonitoringAlertPolicy } from '@cdktf/provider-google/lib/monitoring-alert-policy';
import { SecretManagerSecretVersion } from '@cdktf/provider-google/lib/secret-manager-secret-version';
import { LIMITS } from '../../lib/core';
import { CounterpartyKeys, FreshnessAlerts, ImageMirrorJob, ImageRegistry, ImmutableVaultBucket, PruneJob, S3PullTransferJob, StandbyEnvironment, VerifyRestoreJob } from '../../lib/gcp';
import { RESTORATIONS_PREFIX as RUNTIME_RESTORATIONS_PREFIX } from '../../lib/runtime/records';
import { RESTORATIONS_PREFIX } from '../../lib/gcp/verify-job';
import { NIGHTS_EXTRA_DAYS } from '../../lib/gcp/vault-bucket';
import { CHECKPOINT_EVERY_NIGHTS } from '../../lib/runtime/format';
import { only, resources, synthScope } from './helpers';

Testing.setupJest();

const vaultProps = {
  projectId: 'acme-cc-dr', bucketName: 'acme-cc-vault-acme-cc-dr', location: 'europe-west3', retentionDays: 35, kmsKeyName: 'projects/p/locations/europe-west3/keyRings/r/cryptoKeys/k',
};
const IMAGE = 'europe-west3-docker.pkg.dev/acme-cc-dr/acme-cc-images/counterparty-jobs:0.1.0';

describe('ImmutableVaultBucket', () => {
  test('unlocked by default: retention in seconds, UBLA, PAP enforced, CMEK, soft delete, expiry after retention, no versioning, preventDestroy', () => {
    const out = Testing.synthScope((s) => { new ImmutableVaultBucket(s, 'Vault', { ...vaultProps, system: 'acme-cc', datasets: ['recordings', 'crm'] }); });
    expect(out).toHaveResourceWithProperties(StorageBucket, {
      name: 'acme-cc-vault-acme-cc-dr',
      location: 'europe-west3',
      uniform_bucket_level_access: true,
      public_access_prevention: 'enforced',
      encryption: { default_kms_key_name: vaultProps.kmsKeyName },
      retention_policy: { retention_period: 35 * 86_400, is_locked: false },
      soft_delete_policy: { retention_duration_seconds: 7 * 86_400 },
      versioning: { enabled: false },
      force_destroy: false,
      lifecycle: { prevent_destroy: true },
      labels: { system: 'acme-cc', datasets: 'recordings_crm' },
    });
    const bucket = only(JSON.parse(out), 'google_storage_bucket');
    expect(bucket.lifecycle_rule).toEqual([
      { action: { type: 'Delete' }, condition: { age: 36, matches_prefix: ['verifications/'] } },
      { action: { type: 'Delete' }, condition: { age: 36 + NIGHTS_EXTRA_DAYS, matches_prefix: ['nights/'] } },
    ]);
    // Never the blobs: only prune deletes those.
    expect(JSON.stringify(bucket.lifecycle_rule)).not.toContain('blobs/');
  });

  test('nights/ outlives retention by the checkpoint span of format v2, so the oldest retained night can still be rebuilt', () => {
    expect(NIGHTS_EXTRA_DAYS).toBeGreaterThanOrEqual(CHECKPOINT_EVERY_NIGHTS);
  });

  test('locks only with the lock and its acknowledgement', () => {
    const out = Testing.synthScope((s) => { new ImmutableVaultBucket(s, 'Vault', { ...vaultProps, lock: true, acknowledgeLockIsIrreversible: true }); });
    expect(out).toHaveResourceWithProperties(StorageBucket, { retention_policy: { retention_period: 35 * 86_400, is_locked: true } });
  });

  test('depends on the key grants', () => {
    const { json } = synthScope((s) => {
      const keys = new CounterpartyKeys(s, 'Keys', { projectId: 'acme-cc-dr', location: 'europe-west3', keyRingName: 'r', keyName: 'k', serviceAgents: [] });
      new ImmutableVaultBucket(s, 'Vault', { ...vaultProps, kmsKeyName: keys.keyId, kmsGrants: keys.grants });
    });
    const bucket = only(json, 'google_storage_bucket');
    expect(bucket.depends_on).toEqual([expect.stringMatching(/^google_kms_crypto_key_iam_member\.Keys_StorageAgentUsesKey/)]);
    expect(bucket.encryption.default_kms_key_name).toMatch(/^\$\{google_kms_crypto_key\.Keys_Key_[0-9A-F]+\.id\}$/);
  });

  test.each([
    ['a lock without the opt-in', { lock: true }, /^s\/Vault: lock = true locks the retention policy irreversibly.*Fix: set acknowledgeLockIsIrreversible: true/],
    ['retention over the GCS maximum', { retentionDays: Math.floor(LIMITS.gcsMaxRetentionSeconds / 86_400) + 1 }, new RegExp(`^s/Vault: retentionDays = 36526 is 3155846400 s, over the GCS retention maximum of ${LIMITS.gcsMaxRetentionSeconds} s\\. Fix: give at most 36525 days`)],
    ['an invalid bucket name', { bucketName: 'acme-cc-vault-Google-project' }, /^s\/Vault: bucketName = "acme-cc-vault-Google-project" is invalid: GCS bucket name .* Fix: shorten/],
    ['a too-long bucket name', { bucketName: `a${'b'.repeat(63)}` }, /^s\/Vault: bucketName = "ab+" is invalid: GCS bucket name .* is 64 characters/],
    ['a region outside residency', { location: 'us-central1', residency: ['eu'] }, /^s\/Vault: location = "us-central1" is outside the residency \(eu\)\. Fix: use one of: europe-west1, europe-west3/],
    ['a soft delete below the GCS minimum', { softDeleteDays: 3 }, /^s\/Vault: softDeleteDays = 3 is not a whole number of days from 7 to 90/],
  ])('refuses %s', (_what, patch, message) => {
    const stack = new TerraformStack(Testing.app(), 's');
    expect(() => new ImmutableVaultBucket(stack, 'Vault', { ...vaultProps, ...patch } as any)).toThrow(message);
  });

  test('the GCS maximum itself is accepted', () => {
    const days = Math.floor(LIMITS.gcsMaxRetentionSeconds / 86_400);
    const out = Testing.synthScope((s) => { new ImmutableVaultBucket(s, 'Vault', { ...vaultProps, retentionDays: days }); });
    expect(out).toHaveResourceWithProperties(StorageBucket, { retention_policy: { retention_period: days * 86_400, is_locked: false } });
  });
});

describe('CounterpartyKeys', () => {
  test('rotating key ring and key with preventDestroy; encrypter/decrypter for the GCS, Cloud SQL and Artifact Registry agents only, on the key', () => {
    const { json, text } = synthScope((s) => { new CounterpartyKeys(s, 'Keys', { projectId: 'acme-cc-dr', location: 'europe-west3', keyRingName: 'acme-cc-counterparty', keyName: 'acme-cc-vault-key' }); });
    expect(text).toHaveResourceWithProperties(KmsCryptoKey, { name: 'acme-cc-vault-key', rotation_period: `${90 * 86_400}s`, purpose: 'ENCRYPT_DECRYPT', lifecycle: { prevent_destroy: true } });
    expect(only(json, 'google_kms_key_ring')).toMatchObject({ name: 'acme-cc-counterparty', location: 'europe-west3', lifecycle: { prevent_destroy: true } });
    const grants = resources(json, 'google_kms_crypto_key_iam_member');
    expect(grants.map((g) => g.role)).toEqual(Array(3).fill('roles/cloudkms.cryptoKeyEncrypterDecrypter'));
    expect(grants.every((g) => /google_kms_crypto_key\.Keys_Key_/.test(g.crypto_key_id))).toBe(true);
    expect(grants.map((g) => g.member).sort()).toEqual([
      expect.stringMatching(/^\$\{data\.google_storage_project_service_account\./),
      expect.stringMatching(/^serviceAccount:\$\{google_project_service_identity\.Keys_artifactregistry-agent/),
      expect.stringMatching(/^serviceAccount:\$\{google_project_service_identity\.Keys_sqladmin-agent/),
    ]);
    expect(resources(json, 'google_project_service_identity').map((i) => [i.service, i.provider]).sort()).toEqual([
      ['artifactregistry.googleapis.com', 'google-beta'], ['sqladmin.googleapis.com', 'google-beta'],
    ]);
    expect(json.resource.google_kms_key_ring_iam_member).toBeUndefined();
    expect(json.resource.google_project_iam_member).toBeUndefined();
  });

  test('refuses a rotation outside 1-365 days', () => {
    const stack = new TerraformStack(Testing.app(), 's');
    expect(() => new CounterpartyKeys(stack, 'Keys', { projectId: 'p', location: 'europe-west3', keyRingName: 'r', keyName: 'k', rotationDays: 0 }))
      .toThrow(/^s\/Keys: rotationDays = 0 is not a whole number of days from 1 to 365\. Fix:/);
  });
});

describe('S3PullTransferJob', () => {
  const props = {
    projectId: 'acme-cc-dr', region: 'europe-west3', sourceBucketName: 'acme-cc-exports-111122223333-eu-central-1',
    roleArn: 'arn:aws:iam::111122223333:role/counterparty/acme-cc-gcp-reader', sinkBucketName: 'acme-cc-vault-acme-cc-dr',
    startTimeUtc: { hour: 5, minute: 30 }, topicName: 'acme-cc-transfer-events',
  };

  test('keyless S3 source, never deletes, NEVER overwrites, daily at the start time, notifies on success/failure/abort', () => {
    const { json, text } = synthScope((s) => { new S3PullTransferJob(s, 'Pull', props); });
    expect(text).toHaveResourceWithProperties(StorageTransferJob, {
      transfer_spec: {
        aws_s3_data_source: { bucket_name: props.sourceBucketName, role_arn: props.roleArn },
        gcs_data_sink: { bucket_name: props.sinkBucketName },
        transfer_options: { delete_objects_from_source_after_transfer: false, delete_objects_unique_in_sink: false, overwrite_when: 'NEVER' },
      },
      schedule: { repeat_interval: '86400s', schedule_start_date: { year: 2026, month: 1, day: 1 }, start_time_of_day: { hours: 5, minutes: 30, seconds: 0, nanos: 0 } },
    });
    const job = only(json, 'google_storage_transfer_job');
    expect(job.notification_config).toMatchObject({ payload_format: 'JSON', event_types: ['TRANSFER_OPERATION_SUCCESS', 'TRANSFER_OPERATION_FAILED', 'TRANSFER_OPERATION_ABORTED'] });
    expect(job.transfer_spec.aws_s3_data_source.aws_access_key).toBeUndefined();
    expect(job.notification_config.pubsub_topic).toMatch(/^\$\{google_pubsub_topic\.Pull_Topic_[0-9A-F]+\.id\}$/);
    expect(only(json, 'google_pubsub_topic')).toMatchObject({ name: 'acme-cc-transfer-events', message_storage_policy: { allowed_persistence_regions: ['europe-west3'] } });
    const transferSa = /^\$\{data\.google_storage_transfer_project_service_account\.Pull_TransferServiceAccount_[0-9A-F]+\.member\}$/;
    expect(only(json, 'google_pubsub_topic_iam_member')).toMatchObject({ role: 'roles/pubsub.publisher', member: expect.stringMatching(transferSa) });
    const sinkRoles = resources(json, 'google_storage_bucket_iam_member');
    expect(sinkRoles.map((m) => [m.bucket, m.role]).sort()).toEqual([[props.sinkBucketName, 'roles/storage.legacyBucketWriter'], [props.sinkBucketName, 'roles/storage.objectViewer']]);
    expect(sinkRoles.every((m) => transferSa.test(m.member))).toBe(true);
    expect(job.depends_on).toEqual(expect.arrayContaining([expect.stringMatching(/^google_storage_bucket_iam_member\./), expect.stringMatching(/^google_pubsub_topic_iam_member\./)]));
  });

  test.each([
    ['an access-key style role', { roleArn: 'AKIAIOSFODNN7EXAMPLE' }, /^s\/Pull: roleArn = "AKIAIOSFODNN7EXAMPLE" is not an IAM role ARN\. Fix: use naming\.gcpReaderRoleArn\(plan\); access keys are never used\./],
    ['an invalid source bucket', { sourceBucketName: 'Bad_Bucket' }, /^s\/Pull: sourceBucketName = "Bad_Bucket" is invalid: S3 bucket name/],
    ['an impossible start time', { startTimeUtc: { hour: 24, minute: 0 } }, /^s\/Pull: startTimeUtc = \{"hour":24,"minute":0\} is not a time of day\./],
  ])('refuses %s', (_w, patch, message) => {
    const stack = new TerraformStack(Testing.app(), 's');
    expect(() => new S3PullTransferJob(stack, 'Pull', { ...props, ...patch })).toThrow(message);
  });
});

describe('VerifyRestoreJob', () => {
  const props = {
    projectId: 'acme-cc-dr', region: 'europe-west3', jobName: 'acme-cc-verify', image: IMAGE, vaultBucketName: 'acme-cc-vault-acme-cc-dr',
    serviceAccountId: 'acme-cc-verify', scheduleCronUtc: '0 6 * * *',
    restore: { instanceName: 'acme-cc-standby-db', connectionName: 'acme-cc-dr:europe-west3:acme-cc-standby-db', databaseName: 'crm', user: 'counterparty', passwordSecretId: 'projects/acme-cc-dr/secrets/pw' },
  };

  test('the records prefixes it may create under are the runtime\'s', () => {
    expect(RESTORATIONS_PREFIX).toBe(RUNTIME_RESTORATIONS_PREFIX);
  });

  test('least privilege: object viewer on the vault, create-only under verifications/ and restorations/, Cloud SQL client on the standby instance, accessor on its secret only', () => {
    const { json } = synthScope((s) => { new VerifyRestoreJob(s, 'Verify', props); });
    const sa = /^\$\{google_service_account\.Verify_ServiceAccount_[0-9A-F]+\.member\}$/;
    const bucketRoles = resources(json, 'google_storage_bucket_iam_member');
    expect(bucketRoles.map((b) => [b.bucket, b.role, b.condition?.expression]).sort()).toEqual([
      [props.vaultBucketName, 'roles/storage.objectCreator', `resource.name.startsWith("projects/_/buckets/${props.vaultBucketName}/objects/verifications/") || resource.name.startsWith("projects/_/buckets/${props.vaultBucketName}/objects/restorations/")`],
      [props.vaultBucketName, 'roles/storage.objectViewer', undefined],
    ]);
    expect(bucketRoles.every((b) => sa.test(b.member))).toBe(true);
    expect(only(json, 'google_project_iam_member')).toMatchObject({
      role: 'roles/cloudsql.client', member: expect.stringMatching(sa), condition: { expression: 'resource.name == "projects/acme-cc-dr/instances/acme-cc-standby-db"' },
    });
    expect(only(json, 'google_secret_manager_secret_iam_member')).toMatchObject({ secret_id: props.restore.passwordSecretId, role: 'roles/secretmanager.secretAccessor', member: expect.stringMatching(sa) });
    // No project-wide storage, admin or editor roles anywhere.
    const allRoles = Object.values(json.resource).flatMap((byId) => Object.values(byId)).map((r) => r.role).filter(Boolean);
    expect(allRoles.filter((r: string) => /admin|editor|owner/i.test(r))).toEqual([]);
  });

  test('runs verify-and-restore from Artifact Registry with the contract environment, on the verify schedule', () => {
    const { json } = synthScope((s) => { new VerifyRestoreJob(s, 'Verify', props); });
    const job = only(json, 'google_cloud_run_v2_job');
    const container = job.template.template.containers[0];
    expect(container.image).toBe(IMAGE);
    expect(container.args).toEqual(['verify-and-restore']);
    const env = Object.fromEntries(container.env.map((e: any) => [e.name, e.value ?? e.value_source]));
    expect(env).toEqual({
      CP_STORE: 'gs://acme-cc-vault-acme-cc-dr', PGHOST: '/cloudsql/acme-cc-dr:europe-west3:acme-cc-standby-db', PGPORT: '5432', PGDATABASE: 'crm', PGUSER: 'counterparty',
      PGPASSWORD: { secret_key_ref: { secret: props.restore.passwordSecretId, version: 'latest' } },
    });
    expect(job.template.template.service_account).toMatch(/google_service_account\.Verify_ServiceAccount_/);
    const sched = only(json, 'google_cloud_scheduler_job');
    expect(sched).toMatchObject({
      schedule: '0 6 * * *', time_zone: 'Etc/UTC',
      http_target: { http_method: 'POST', uri: 'https://run.googleapis.com/v2/projects/acme-cc-dr/locations/europe-west3/jobs/acme-cc-verify:run' },
    });
    expect(sched.http_target.oauth_token.service_account_email).toMatch(/google_service_account\.Verify_ServiceAccount_.*\.email/);
    expect(only(json, 'google_cloud_run_v2_job_iam_member')).toMatchObject({ role: 'roles/run.invoker' });
  });

  test('the job depends on the password secret version and its accessor grant (no first-revision race)', () => {
    const { json } = synthScope((s) => {
      const version = new SecretManagerSecretVersion(s, 'PwVersion', { secret: props.restore.passwordSecretId, secretData: 'x' });
      new VerifyRestoreJob(s, 'Verify', { ...props, restore: { ...props.restore, passwordVersion: version, appRole: 'acme-cc-app@acme-cc-dr.iam' } });
    });
    const job = only(json, 'google_cloud_run_v2_job');
    const grant = Object.keys(json.resource.google_secret_manager_secret_iam_member)[0];
    const version = Object.keys(json.resource.google_secret_manager_secret_version)[0];
    expect(job.depends_on).toEqual(expect.arrayContaining([`google_secret_manager_secret_iam_member.${grant}`, `google_secret_manager_secret_version.${version}`]));
    const env = Object.fromEntries(job.template.template.containers[0].env.map((e: any) => [e.name, e.value]));
    expect(env.CP_PG_APP_ROLE).toBe('acme-cc-app@acme-cc-dr.iam');
  });

  test('refuses an image from outside Artifact Registry (e.g. ECR)', () => {
    const stack = new TerraformStack(Testing.app(), 's');
    expect(() => new VerifyRestoreJob(stack, 'Verify', { ...props, image: '111122223333.dkr.ecr.eu-central-1.amazonaws.com/counterparty-jobs:0.1.0' }))
      .toThrow(/^s\/Verify: image = "111122223333\.dkr\.ecr.*" is not an Artifact Registry image; a failover must never pull from outside this project\. Fix:/);
  });
});

describe('StandbyEnvironment', () => {
  const network = 'projects/acme-cc-dr/global/networks/dr';
  const props = {
    projectId: 'acme-cc-dr', region: 'europe-west3', kmsKeyName: 'projects/p/locations/europe-west3/keyRings/r/cryptoKeys/k', instanceName: 'acme-cc-standby-db',
    databaseName: 'crm', passwordSecretId: 'acme-cc-standby-db-password', serviceName: 'acme-cc-app', network,
    applicationImage: 'europe-west3-docker.pkg.dev/acme-cc-dr/acme-cc-images/contact-centre-app@sha256:' + 'a'.repeat(64), appServiceAccountId: 'acme-cc-app',
    vaultBucketName: 'acme-cc-vault-acme-cc-dr',
  };

  test('standby: scaled to zero and internal-only; database CMEK, backups, deletion protection, private IP only, SSL required', () => {
    const { json } = synthScope((s) => { new StandbyEnvironment(s, 'Standby', { ...props, mode: 'standby' }); });
    const svc = only(json, 'google_cloud_run_v2_service');
    expect(svc.ingress).toBe('INGRESS_TRAFFIC_INTERNAL_ONLY');
    expect(svc.template.scaling.min_instance_count).toBe(0);
    const db = only(json, 'google_sql_database_instance');
    expect(db).toMatchObject({
      deletion_protection: true, encryption_key_name: props.kmsKeyName, database_version: 'POSTGRES_16', lifecycle: { prevent_destroy: true },
      settings: { deletion_protection_enabled: true, backup_configuration: { enabled: true, point_in_time_recovery_enabled: true } },
    });
    expect(db.settings.ip_configuration).toEqual({ ipv4_enabled: false, private_network: network, ssl_mode: 'ENCRYPTED_ONLY' });
    expect(svc.template.vpc_access).toEqual({ network_interfaces: [{ network }], egress: 'PRIVATE_RANGES_ONLY' });
    expect(json.resource.google_cloud_run_v2_service_iam_member).toBeUndefined();
  });

  test('refuses a standby without a private network, naming the field and the fix', () => {
    const stack = new TerraformStack(Testing.app(), 's');
    expect(() => new StandbyEnvironment(stack, 'Standby', { ...props, mode: 'standby', network: undefined as unknown as string }))
      .toThrow(/^s\/Standby: network = \(not set\) is required: the standby database gets a private IP only \(no public IP\).*Fix: give a VPC network with private services access/);
  });

  test('active: warm instances and public ingress (the failover switch)', () => {
    const { json } = synthScope((s) => { new StandbyEnvironment(s, 'Standby', { ...props, mode: 'active', activeMinInstances: 2, publicInvokerWhenActive: true }); });
    const svc = only(json, 'google_cloud_run_v2_service');
    expect(svc.ingress).toBe('INGRESS_TRAFFIC_ALL');
    expect(svc.template.scaling.min_instance_count).toBe(2);
    expect(only(json, 'google_cloud_run_v2_service_iam_member')).toMatchObject({ role: 'roles/run.invoker', member: 'allUsers' });
  });

  test('the restore user has the generated password (in a regional secret, by reference only); the app has its own IAM user and no password', () => {
    const { json } = synthScope((s) => { new StandbyEnvironment(s, 'Standby', { ...props, mode: 'standby' }); });
    const pw = Object.keys(json.resource.random_password)[0];
    expect(only(json, 'google_secret_manager_secret_version').secret_data).toBe(`\${random_password.${pw}.result}`);
    const users = resources(json, 'google_sql_user');
    const user = (name: string) => users.find((u) => u.name === name)!;
    expect(users.map((u) => [u.name, u.type ?? 'BUILT_IN']).sort()).toEqual([['acme-cc-app@acme-cc-dr.iam', 'CLOUD_IAM_SERVICE_ACCOUNT'], ['counterparty', 'BUILT_IN']]);
    expect(user('counterparty').password).toBe(`\${random_password.${pw}.result}`);
    expect(user('acme-cc-app@acme-cc-dr.iam').password).toBeUndefined();
    expect(only(json, 'google_sql_database_instance').settings.database_flags).toEqual([{ name: 'cloudsql.iam_authentication', value: 'on' }]);
    expect(only(json, 'google_secret_manager_secret')).toMatchObject({ replication: { user_managed: { replicas: [{ location: 'europe-west3' }] } }, lifecycle: { prevent_destroy: true } });
    // The app never reads the restore password, and logs in as its own user.
    expect(json.resource.google_secret_manager_secret_iam_member).toBeUndefined();
    const env = Object.fromEntries(only(json, 'google_cloud_run_v2_service').template.containers[0].env.map((e: any) => [e.name, e.value ?? e.value_source]));
    expect(env).toMatchObject({ PGUSER: 'acme-cc-app@acme-cc-dr.iam', PGSSLMODE: 'require', CP_PG_IAM_AUTH: 'true', CP_STORE: 'gs://acme-cc-vault-acme-cc-dr' });
    expect(env.PGPASSWORD).toBeUndefined();
  });

  test('least privilege for the app: read-only on the vault bucket only, Cloud SQL client and instance user on this instance only', () => {
    const { json } = synthScope((s) => { new StandbyEnvironment(s, 'Standby', { ...props, mode: 'standby' }); });
    const app = /^\$\{google_service_account\.Standby_AppServiceAccount_[0-9A-F]+\.member\}$/;
    expect(only(json, 'google_storage_bucket_iam_member')).toMatchObject({ bucket: props.vaultBucketName, role: 'roles/storage.objectViewer', member: expect.stringMatching(app) });
    const project = resources(json, 'google_project_iam_member');
    expect(project.map((m) => m.role).sort()).toEqual(['roles/cloudsql.client', 'roles/cloudsql.instanceUser']);
    for (const m of project) expect(m.condition.expression).toBe('resource.name == "projects/acme-cc-dr/instances/acme-cc-standby-db"');
    const svc = only(json, 'google_cloud_run_v2_service');
    expect(svc.depends_on).toEqual(expect.arrayContaining([expect.stringMatching(/^google_sql_user\.Standby_AppUser_/), expect.stringMatching(/^google_project_iam_member\./)]));
  });

  test('engine version and extensions from the plan: POSTGRES_<major>, flags for extensions that need one', () => {
    const { json } = synthScope((s) => { new StandbyEnvironment(s, 'Standby', { ...props, mode: 'standby', engineVersion: 17, extensions: ['pgcrypto', 'pg_cron'] }); });
    const db = only(json, 'google_sql_database_instance');
    expect(db.database_version).toBe('POSTGRES_17');
    expect(db.settings.database_flags).toEqual([{ name: 'cloudsql.iam_authentication', value: 'on' }, { name: 'cloudsql.enable_pg_cron', value: 'on' }]);
    const stack = new TerraformStack(Testing.app(), 's');
    expect(() => new StandbyEnvironment(stack, 'Standby', { ...props, mode: 'standby', engineVersion: 18 })).toThrow(/^s\/Standby: engineVersion = 18 is not a PostgreSQL major the standby supports \(13, 14, 15, 16, 17\)/);
  });

  test('bootstrap: no application image, no service (the database, users and grants still exist)', () => {
    const { json } = synthScope((s) => { new StandbyEnvironment(s, 'Standby', { ...props, mode: 'standby', applicationImage: undefined }); });
    expect(json.resource.google_cloud_run_v2_service).toBeUndefined();
    expect(resources(json, 'google_sql_user')).toHaveLength(2);
  });

  test('refuses an active site with no warm instance', () => {
    const stack = new TerraformStack(Testing.app(), 's');
    expect(() => new StandbyEnvironment(stack, 'Standby', { ...props, mode: 'active', activeMinInstances: 0 }))
      .toThrow(/^s\/Standby: activeMinInstances = 0 must be a whole number from 1 to 100: an active site keeps at least one instance warm\. Fix:/);
  });
});

describe('ImageRegistry', () => {
  test('CMEK docker repository with immutable tags and preventDestroy; the mirror identity may write to it only', () => {
    const { json } = synthScope((s) => {
      new ImageRegistry(s, 'Images', { projectId: 'acme-cc-dr', location: 'europe-west3', repositoryId: 'acme-cc-images', kmsKeyName: 'k', mirrorServiceAccountId: 'acme-cc-images' });
    });
    expect(only(json, 'google_artifact_registry_repository')).toMatchObject({
      repository_id: 'acme-cc-images', format: 'DOCKER', kms_key_name: 'k', docker_config: { immutable_tags: true }, lifecycle: { prevent_destroy: true },
    });
    expect(only(json, 'google_artifact_registry_repository_iam_member')).toMatchObject({ role: 'roles/artifactregistry.writer', member: expect.stringMatching(/google_service_account\.Images_MirrorServiceAccount/) });
  });
});

describe('FreshnessAlerts', () => {
  const props = { projectId: 'acme-cc-dr', metricName: 'acme_cc_verify_success', verifyJobName: 'acme-cc-verify', emails: ['oncall@acme.example'] };
  const byName = (json: any) => Object.fromEntries(resources(json, 'google_monitoring_alert_policy').map((p) => [p.display_name.replace(/^Counterparty: /, ''), p]));

  test('metrics count every verify and restore result line; silence uses an absence condition when RPO+grace fits the 23.5 h cap', () => {
    const { json, text } = synthScope((s) => { new FreshnessAlerts(s, 'Alerts', { ...props, freshnessHours: 12 }); });
    expect(resources(json, 'google_logging_metric').map((m) => [m.name, m.filter]).sort()).toEqual([
      ['acme_cc_verify_success', 'resource.type="cloud_run_job" AND resource.labels.job_name="acme-cc-verify" AND jsonPayload.event="counterparty.verify"'],
      ['acme_cc_verify_success_restore', 'resource.type="cloud_run_job" AND resource.labels.job_name="acme-cc-verify" AND jsonPayload.event="counterparty.restore"'],
    ]);
    expect(text).toHaveResourceWithProperties(MonitoringAlertPolicy, { severity: 'CRITICAL', combiner: 'OR' });
    expect(byName(json)['nothing reported within RPO + grace (12 h)'].conditions).toMatchObject([
      { condition_absent: { duration: `${12 * 3600}s`, filter: 'metric.type="logging.googleapis.com/user/acme_cc_verify_success" AND resource.type="cloud_run_job"' } },
      { condition_absent: { duration: `${12 * 3600}s`, filter: 'metric.type="logging.googleapis.com/user/acme_cc_verify_success_restore" AND resource.type="cloud_run_job"' } },
    ]);
    expect(only(json, 'google_monitoring_notification_channel')).toMatchObject({ type: 'email', labels: { email_address: 'oncall@acme.example' } });
  });

  test('the five alerts of issue 11 plus image presence, each keyed on the runtime log contract (docs/runtime.md)', () => {
    const { json } = synthScope((s) => {
      new FreshnessAlerts(s, 'Alerts', { ...props, freshnessHours: 30, notificationChannels: ['projects/acme-cc-dr/notificationChannels/42'], jobNames: ['acme-cc-verify', 'acme-cc-mirror', 'acme-cc-prune'], mirrorJobName: 'acme-cc-mirror' });
    });
    const p = byName(json);
    expect(Object.keys(p).sort()).toEqual(['a job execution failed', 'an image of the plan is missing from Artifact Registry', 'data older than RPO + grace (30 h)',
      'nightly transfer failed', 'nothing reported within RPO + grace (30 h)', 'restore failed', 'verification failed']);
    const log = (name: string) => p[name].conditions[0].condition_matched_log.filter;
    expect(log('data older than RPO + grace (30 h)')).toBe('resource.type="cloud_run_job" AND jsonPayload.event=("counterparty.verify" OR "counterparty.restore") AND jsonPayload.stale=true');
    expect(log('verification failed')).toBe('resource.type="cloud_run_job" AND resource.labels.job_name="acme-cc-verify" AND jsonPayload.event="counterparty.verify" AND jsonPayload.result="failure"');
    expect(log('restore failed')).toBe('resource.type="cloud_run_job" AND resource.labels.job_name="acme-cc-verify" AND jsonPayload.event="counterparty.restore" AND jsonPayload.result="failure"');
    expect(log('nightly transfer failed')).toBe('resource.type="storage_transfer_job" AND severity>=ERROR');
    expect(log('an image of the plan is missing from Artifact Registry')).toBe('resource.type="cloud_run_job" AND resource.labels.job_name="acme-cc-mirror" AND jsonPayload.event="counterparty.mirror" AND jsonPayload.imagesMissing>0');
    const jobs = p['a job execution failed'].conditions[0].condition_threshold;
    expect(jobs.filter).toBe('metric.type="run.googleapis.com/job/completed_execution_count" AND resource.type="cloud_run_job" AND metric.labels.result="failed" AND resource.labels.job_name=one_of("acme-cc-verify", "acme-cc-mirror", "acme-cc-prune")');
    expect(jobs).toMatchObject({ comparison: 'COMPARISON_GT', threshold_value: 0 });
    // Past the 23.5 h cap: PromQL absent_over_time on each metric; the mirror may be silent two nights.
    expect(p['nothing reported within RPO + grace (30 h)'].conditions.map((c: any) => c.condition_prometheus_query_language.query)).toEqual([
      'absent_over_time(logging_googleapis_com:user_acme_cc_verify_success{monitored_resource="cloud_run_job"}[30h])',
      'absent_over_time(logging_googleapis_com:user_acme_cc_verify_success_restore{monitored_resource="cloud_run_job"}[30h])',
      'absent_over_time(logging_googleapis_com:user_acme_cc_verify_success_mirror{monitored_resource="cloud_run_job"}[48h])',
    ]);
    for (const policy of Object.values(p)) expect((policy as any).notification_channels).toEqual(['projects/acme-cc-dr/notificationChannels/42']);
    expect(json.resource.google_monitoring_notification_channel).toBeUndefined();
  });

  test('the runtime writes the fields the alerts key on (stale, result, imagesMissing): names checked against the log contract doc', () => {
    const contract = require('fs').readFileSync(require('path').join(__dirname, '../../docs/runtime.md'), 'utf8') as string;
    for (const field of ['`stale`', '`result`', '`counterparty.verify`', '`counterparty.restore`', '`counterparty.mirror`']) expect(contract).toContain(field);
    const mirror = require('fs').readFileSync(require('path').join(__dirname, '../../lib/runtime/mirror.ts'), 'utf8') as string;
    expect(mirror).toMatch(/imagesMissing: r\.missing\.length/);
  });

  test('refuses alerts that notify no one', () => {
    const stack = new TerraformStack(Testing.app(), 's');
    expect(() => new FreshnessAlerts(stack, 'Alerts', { ...props, emails: [], freshnessHours: 30 })).toThrow(/^s\/Alerts: notificationChannels = \(not set\) and emails are both empty/);
  });
});

describe('ImageMirrorJob', () => {
  const props = {
    projectId: 'acme-cc-dr', region: 'europe-west3', jobName: 'acme-cc-mirror', image: IMAGE,
    serviceAccountEmail: 'acme-cc-images@acme-cc-dr.iam.gserviceaccount.com', serviceAccountMember: 'serviceAccount:acme-cc-images@acme-cc-dr.iam.gserviceaccount.com',
    sourceRegistry: '111122223333.dkr.ecr.eu-central-1.amazonaws.com', destinationRegistry: 'europe-west3-docker.pkg.dev/acme-cc-dr/acme-cc-images',
    images: ['contact-centre-app:2.3.1', 'counterparty-jobs:0.1.0'], keepReleases: 5,
    roleArn: 'arn:aws:iam::111122223333:role/counterparty/acme-cc-gcp-image-mirror', awsRegion: 'eu-central-1',
    tokenAudience: 'sts.amazonaws.com/111122223333/acme-cc-gcp-image-mirror', scheduleCronUtc: '0 5 * * *',
  };

  test('runs `mirror` as the mirror identity with the keyless environment, nightly, and on demand', () => {
    const { json } = synthScope((s) => { new ImageMirrorJob(s, 'Mirror', props); });
    const job = only(json, 'google_cloud_run_v2_job');
    const container = job.template.template.containers[0];
    expect(container.args).toEqual(['mirror']);
    expect(job.template.template.service_account).toBe(props.serviceAccountEmail);
    expect(Object.fromEntries(container.env.map((e: any) => [e.name, e.value]))).toEqual({
      CP_MIRROR_SOURCE: props.sourceRegistry, CP_MIRROR_DESTINATION: props.destinationRegistry, CP_IMAGES: 'contact-centre-app:2.3.1,counterparty-jobs:0.1.0',
      CP_KEEP_RELEASES: '5', CP_MIRROR_AUTH: 'gcp', CP_MIRROR_TOKEN_AUDIENCE: props.tokenAudience, AWS_ROLE_ARN: props.roleArn, AWS_REGION: 'eu-central-1',
    });
    expect(JSON.stringify(container.env)).not.toMatch(/AWS_ACCESS_KEY|AWS_SECRET/);
    expect(only(json, 'google_cloud_scheduler_job')).toMatchObject({ schedule: '0 5 * * *', http_target: { uri: 'https://run.googleapis.com/v2/projects/acme-cc-dr/locations/europe-west3/jobs/acme-cc-mirror:run' } });
    expect(only(json, 'google_cloud_run_v2_job_iam_member')).toMatchObject({ role: 'roles/run.invoker', member: props.serviceAccountMember });
  });

  test.each([
    ['keys instead of a role', { roleArn: 'AKIAIOSFODNN7EXAMPLE' }, /roleArn = "AKIAIOSFODNN7EXAMPLE" is not an IAM role ARN/],
    ['a non-ECR source', { sourceRegistry: 'docker.io' }, /sourceRegistry = "docker.io" is not an ECR registry host/],
    ['no releases kept', { keepReleases: 0 }, /keepReleases = 0 must be a whole number from 1 to 100/],
    ['an image with a host', { images: ['ghcr.io/x/y:1'] }, /images = "ghcr.io\/x\/y:1" is not <repository>:<tag>/],
    ['an ECR image', { image: '111122223333.dkr.ecr.eu-central-1.amazonaws.com/counterparty-jobs:0.1.0' }, /image = .* is not an Artifact Registry image/],
  ])('refuses %s', (_w, patch, message) => {
    const stack = new TerraformStack(Testing.app(), 's');
    expect(() => new ImageMirrorJob(stack, 'Mirror', { ...props, ...patch })).toThrow(message);
  });
});

describe('PruneJob', () => {
  const props = {
    projectId: 'acme-cc-dr', region: 'europe-west3', jobName: 'acme-cc-prune', image: IMAGE, vaultBucketName: 'acme-cc-vault-acme-cc-dr',
    serviceAccountId: 'acme-cc-prune', deleteRoleId: 'acme_cc_prune_delete', scheduleCronUtc: '0 9 * * *',
  };

  test('deletes only under blobs/sha256/ (a delete-only custom role under a condition), reads the vault, writes nothing', () => {
    const { json } = synthScope((s) => { new PruneJob(s, 'Prune', props); });
    expect(only(json, 'google_project_iam_custom_role')).toMatchObject({ role_id: 'acme_cc_prune_delete', permissions: ['storage.objects.delete'] });
    const grants = resources(json, 'google_storage_bucket_iam_member');
    expect(grants.map((g) => [g.role, g.condition?.expression]).sort((a, b) => String(b[0]).localeCompare(String(a[0])))).toEqual([
      ['roles/storage.objectViewer', undefined],
      [expect.stringMatching(/google_project_iam_custom_role\.Prune_DeleteBlobsRole_.*\.name/), 'resource.name.startsWith("projects/_/buckets/acme-cc-vault-acme-cc-dr/objects/blobs/sha256/")'],
    ]);
    expect(grants.map((g) => g.role)).not.toContain('roles/storage.objectAdmin');
    const job = only(json, 'google_cloud_run_v2_job');
    expect(job.template.template.containers[0].args).toEqual(['prune']);
    expect(Object.fromEntries(job.template.template.containers[0].env.map((e: any) => [e.name, e.value]))).toEqual({ CP_STORE: 'gs://acme-cc-vault-acme-cc-dr' });
    const dry = synthScope((s) => { new PruneJob(s, 'Prune', { ...props, dryRun: true }); }).json;
    expect(only(dry, 'google_cloud_run_v2_job').template.template.containers[0].env).toContainEqual({ name: 'CP_PRUNE_DRY_RUN', value: 'true' });
    expect(job.depends_on).toHaveLength(2);
    expect(only(json, 'google_cloud_scheduler_job').schedule).toBe('0 9 * * *');
  });
});

describe('ImageRegistry.imageDigestUri', () => {
  test('one digest lookup per plan image; the URI is its self_link (repository@sha256:...)', () => {
    let uri = '';
    const { json } = synthScope((s) => {
      const r = new ImageRegistry(s, 'Images', { projectId: 'acme-cc-dr', location: 'europe-west3', repositoryId: 'acme-cc-images', kmsKeyName: 'k' });
      uri = r.imageDigestUri('counterparty-jobs:0.1.0');
      r.imageDigestUri('counterparty-jobs:0.1.0');
      new VerifyRestoreJob(s, 'Verify', { projectId: 'acme-cc-dr', region: 'europe-west3', jobName: 'acme-cc-verify', image: uri, vaultBucketName: 'b-b-b', serviceAccountId: 'acme-cc-verify', scheduleCronUtc: '0 6 * * *' });
    });
    const lookups = Object.entries(json.data!.google_artifact_registry_docker_image);
    expect(lookups).toHaveLength(1);
    expect(lookups[0][1]).toMatchObject({ project: 'acme-cc-dr', location: 'europe-west3', repository_id: 'acme-cc-images', image_name: 'counterparty-jobs:0.1.0' });
    expect(only(json, 'google_cloud_run_v2_job').template.template.containers[0].image).toBe(`\${data.google_artifact_registry_docker_image.${lookups[0][0]}.self_link}`);
  });
});
