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
import { GcpCounterpartyStack, gcpStateBackendFromEnv } from '../../stacks/gcp-counterparty-stack';
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

  const scheduler = (j: TfJson, job: string) => resources(j, 'google_cloud_scheduler_job').find((x) => x.name === `${job}-nightly`)!;
  const runJob = (j: TfJson, name: string) => resources(j, 'google_cloud_run_v2_job').find((x) => x.name === name)!;
  const envOf = (container: any) => Object.fromEntries(container.env.map((e: any) => [e.name, e.value ?? e.value_source]));

  test('transfer, verify, mirror and prune run on the plan-derived schedule', () => {
    const s = counterpartySchedule(plan);
    expect(only(json, 'google_storage_transfer_job').schedule.start_time_of_day).toEqual({ hours: s.copyUtc.hour, minutes: s.copyUtc.minute, seconds: 0, nanos: 0 });
    expect(scheduler(json, 'acme-cc-verify').schedule).toBe(s.verifyCronUtc);
    expect(scheduler(json, 'acme-cc-mirror').schedule).toBe(s.copyCronUtc);
    expect(scheduler(json, 'acme-cc-prune').schedule).toBe('0 9 * * *');
    expect([s.copyUtc, s.verifyCronUtc]).toEqual([{ hour: 5, minute: 0 }, '0 6 * * *']);
    const berlin = synthStack(planWith({ schedule: { cron: '30 1 * * *', timeZone: 'Europe/Berlin' } })).json;
    // 01:30 Berlin is 23:30 UTC in summer, 00:30 in winter; the later one plus the 3 h window is 03:30 UTC.
    expect(only(berlin, 'google_storage_transfer_job').schedule.start_time_of_day).toMatchObject({ hours: 3, minutes: 30 });
  });

  test('every runtime image is this project\'s Artifact Registry image BY DIGEST (the plan tag looked up at plan time), never ECR', () => {
    const lookups = json.data!.google_artifact_registry_docker_image;
    expect(Object.values(lookups).map((l: any) => [l.repository_id, l.image_name]).sort()).toEqual([['acme-cc-images', 'contact-centre-app:2.3.1'], ['acme-cc-images', 'counterparty-jobs:0.1.0']]);
    const bySelfLink = (name: string) => `\${data.google_artifact_registry_docker_image.${Object.entries(lookups).find(([, l]: any) => l.image_name === name)![0]}.self_link}`;
    const jobs = resources(json, 'google_cloud_run_v2_job');
    expect(jobs.map((j) => j.name).sort()).toEqual(['acme-cc-mirror', 'acme-cc-prune', 'acme-cc-verify']);
    for (const j of jobs) expect(j.template.template.containers[0].image).toBe(bySelfLink('counterparty-jobs:0.1.0'));
    expect(only(json, 'google_cloud_run_v2_service').template.containers[0].image).toBe(bySelfLink('contact-centre-app:2.3.1'));
    // The ECR host appears only as the mirror's source (its job, and its schedule's description).
    const ecr = naming.ecrRegistryHost(plan);
    const mentioning = Object.entries(json.resource).flatMap(([type, byId]) => Object.values(byId).filter((r) => JSON.stringify(r).includes(ecr)).map((r) => `${type}:${r.name}`));
    expect(mentioning.sort()).toEqual(['google_cloud_run_v2_job:acme-cc-mirror', 'google_cloud_scheduler_job:acme-cc-mirror-nightly']);
    expect(envOf(runJob(json, 'acme-cc-mirror').template.template.containers[0]).CP_MIRROR_SOURCE).toBe(ecr);
  });

  test('the mirror job: nightly, keyless through the contract role and audience, as the registry\'s writer identity, keeping plan images.keepReleases', () => {
    const mirror = runJob(json, 'acme-cc-mirror');
    expect(mirror.template.template.containers[0].args).toEqual(['mirror']);
    expect(envOf(mirror.template.template.containers[0])).toEqual({
      CP_MIRROR_SOURCE: '111122223333.dkr.ecr.eu-central-1.amazonaws.com', CP_MIRROR_DESTINATION: 'europe-west3-docker.pkg.dev/acme-cc-dr/acme-cc-images',
      CP_IMAGES: 'contact-centre-app:2.3.1,counterparty-jobs:0.1.0', CP_KEEP_RELEASES: String(plan.images.keepReleases), CP_MIRROR_AUTH: 'gcp',
      CP_MIRROR_TOKEN_AUDIENCE: naming.gcpImageMirrorTokenAudience(plan), AWS_ROLE_ARN: naming.imageMirrorRoleArn(plan, 'gcp'), AWS_REGION: 'eu-central-1',
    });
    expect(mirror.template.template.service_account).toMatch(/google_service_account\.Counterparty_Images_MirrorServiceAccount_\w+\.email/);
    expect(mirror.depends_on).toEqual([expect.stringMatching(/^google_artifact_registry_repository_iam_member\.Counterparty_Images_MirrorWrites_/)]);
    expect(synthStack(planWith({ images: { ...referencePlan.images, keepReleases: 2 } })).text).toContain('"value": "2"');
    expect(json.output!.image_mirror_role_arn.value).toBe('arn:aws:iam::111122223333:role/counterparty/acme-cc-gcp-image-mirror');
    expect(json.output!.image_mirror_subject_id.description).toMatch(/counterparties\.gcp\.imageMirrorSubjectId/);
  });

  test('every Cloud Run service or job that reads a secret depends on the secret version and the accessor grant', () => {
    const readers = [...resources(json, 'google_cloud_run_v2_job'), ...resources(json, 'google_cloud_run_v2_service')]
      .filter((r) => JSON.stringify(r).includes('secret_key_ref'));
    expect(readers.map((r) => r.name)).toEqual(['acme-cc-verify']);
    const [versionId] = Object.keys(json.resource.google_secret_manager_secret_version);
    for (const r of readers) {
      const secret = JSON.stringify(r).match(/google_secret_manager_secret\.([\w-]+)\.id/)![1];
      const grants = Object.entries(json.resource.google_secret_manager_secret_iam_member).filter(([, g]) => g.secret_id === `\${google_secret_manager_secret.${secret}.id}`).map(([id]) => id);
      expect(grants.length).toBeGreaterThan(0);
      expect(r.depends_on).toEqual(expect.arrayContaining([`google_secret_manager_secret_version.${versionId}`, ...grants.map((g) => `google_secret_manager_secret_iam_member.${g}`)]));
    }
  });

  test('standby: scaled to zero, internal ingress; active: warm and public (the failover switch)', () => {
    expect(text).toHaveResourceWithProperties(CloudRunV2Service, { name: 'acme-cc-app', ingress: 'INGRESS_TRAFFIC_INTERNAL_ONLY' });
    expect(only(json, 'google_cloud_run_v2_service').template.scaling.min_instance_count).toBe(0);
    const active = synthStack(planWith({}, { mode: 'active' }));
    expect(active.text).toHaveResourceWithProperties(CloudRunV2Service, { name: 'acme-cc-app', ingress: 'INGRESS_TRAFFIC_ALL' });
    expect(only(active.json, 'google_cloud_run_v2_service').template.scaling.min_instance_count).toBeGreaterThanOrEqual(1);
    // Once active, the nightly restore must not overwrite the live database.
    expect([scheduler(json, 'acme-cc-verify').paused, scheduler(active.json, 'acme-cc-verify').paused]).toEqual([false, true]);
    // ECR is presumed gone once active: the nightly mirror pauses (on demand still works); prune goes on.
    expect([scheduler(json, 'acme-cc-mirror').paused, scheduler(active.json, 'acme-cc-mirror').paused]).toEqual([false, true]);
    expect(scheduler(active.json, 'acme-cc-prune').paused).toBe(false);
    // The verify/restore alerts would fire every night while the restore is paused: disabled; the rest stay on.
    const enabled = (j: TfJson) => Object.fromEntries(resources(j, 'google_monitoring_alert_policy').map((p) => [p.display_name.replace(/^Counterparty: /, '').replace(/ \(\d+ h\)$/, ''), p.enabled]));
    expect(Object.values(enabled(json)).every((e) => e === true)).toBe(true);
    expect(enabled(active.json)).toEqual({
      'data older than RPO + grace': false, 'nothing reported within RPO + grace': false, 'verification failed': false, 'restore failed': false,
      'nightly transfer failed': true, 'a job execution failed': true, 'an image of the plan is missing from Artifact Registry': true,
    });
    // The switch changes only the service: the data side is identical.
    const dataSide = (j: TfJson) => JSON.stringify(['google_storage_bucket', 'google_sql_database_instance', 'google_storage_transfer_job', 'google_kms_crypto_key'].map((t) => j.resource[t]));
    expect(dataSide(active.json)).toBe(dataSide(json));
  });

  test('the standby database: deletion protection, backups, CMEK, private IP only on the plan network, the plan\'s engine version', () => {
    const db = only(json, 'google_sql_database_instance');
    expect(db).toMatchObject({ deletion_protection: true, database_version: 'POSTGRES_16', settings: { deletion_protection_enabled: true, backup_configuration: { enabled: true } } });
    expect(db.settings.ip_configuration).toEqual({ ipv4_enabled: false, private_network: referencePlan.counterparties.gcp!.network, ssl_mode: 'ENCRYPTED_ONLY' });
    expect(db.encryption_key_name).toMatch(/google_kms_crypto_key\.Counterparty_Keys_Key_/);
    expect(db.depends_on).toEqual(expect.arrayContaining([expect.stringMatching(/sqladmin-agent-uses-key/)]));
    const env = envOf(runJob(json, 'acme-cc-verify').template.template.containers[0]);
    expect(env.PGHOST).toMatch(/google_sql_database_instance\.[\w-]+\.private_ip_address/);
    const pg17 = synthStack(planWith({ datasets: referencePlan.datasets.map((d) => d.kind === 'postgres' ? { ...d, engineVersion: 17, extensions: ['citext', 'pg_cron'] } : d) })).json;
    const db17 = only(pg17, 'google_sql_database_instance');
    expect(db17.database_version).toBe('POSTGRES_17');
    expect(db17.settings.database_flags).toContainEqual({ name: 'cloudsql.enable_pg_cron', value: 'on' });
  });

  test('a plan without a network is refused, naming the field and the fix (no public-IP fallback)', () => {
    expect(() => synthStack(planWith({}, { network: undefined }))).toThrow(/Counterparty: plan\.counterparties\.gcp\.network = \(not set\) is not set: the standby database gets a private IP only.*Fix: add counterparties\.gcp\.network/);
  });

  test('least privilege: the app reads the vault read-only and logs in as its own database user, not the restore user', () => {
    const app = /google_service_account\.Counterparty_Standby_AppServiceAccount_\w+\.member/;
    const appGrants = resources(json, 'google_storage_bucket_iam_member').filter((g) => app.test(g.member));
    expect(appGrants.map((g) => [g.bucket, g.role])).toEqual([[naming.gcsVaultBucketName(plan, 'acme-cc-dr'), 'roles/storage.objectViewer']]);
    const svcEnv = envOf(only(json, 'google_cloud_run_v2_service').template.containers[0]);
    const jobEnv = envOf(runJob(json, 'acme-cc-verify').template.template.containers[0]);
    expect(svcEnv.PGUSER).toBe('acme-cc-app@acme-cc-dr.iam');
    expect(jobEnv.PGUSER).toBe('counterparty');
    expect(jobEnv.CP_PG_APP_ROLE).toBe(svcEnv.PGUSER);
    expect(svcEnv.PGPASSWORD).toBeUndefined();
  });

  test('the verify job gets the freshness and completeness environment of the log contract', () => {
    const env = envOf(runJob(json, 'acme-cc-verify').template.template.containers[0]);
    expect(env).toMatchObject({ CP_RPO_HOURS: '24', CP_ALARM_GRACE_HOURS: '6', CP_DATASETS: 'recordings:s3Bucket,contact-records:dynamoDbTable,crm:postgres,connect:connectInstance' });
  });

  test('alerts: data age, nothing reported, copy, verify, restore, failed executions of every job, image presence; to the plan\'s e-mail or channels', () => {
    expect(only(json, 'google_monitoring_notification_channel').labels).toEqual({ email_address: 'oncall@acme.example' });
    const policies = resources(json, 'google_monitoring_alert_policy');
    expect(policies).toHaveLength(7);
    const jobs = policies.find((p) => /job execution failed/.test(p.display_name))!.conditions[0].condition_threshold.filter;
    expect(jobs).toContain('resource.labels.job_name=one_of("acme-cc-verify", "acme-cc-mirror", "acme-cc-prune")');
    expect(policies.find((p) => /image of the plan is missing/.test(p.display_name))).toBeDefined();
    const withChannels = synthStack(planWith({}, { notificationChannels: ['projects/acme-cc-dr/notificationChannels/7'] })).json;
    expect(withChannels.resource.google_monitoring_notification_channel).toBeUndefined();
    expect(new Set(resources(withChannels, 'google_monitoring_alert_policy').map((p) => JSON.stringify(p.notification_channels)))).toEqual(new Set(['["projects/acme-cc-dr/notificationChannels/7"]']));
  });

  test('the transfer never overwrites (issue 10)', () => {
    expect(only(json, 'google_storage_transfer_job').transfer_spec.transfer_options.overwrite_when).toBe('NEVER');
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

describe('Bootstrap (day one, empty registries)', () => {
  const boot = synthStack(planWith({}, { bootstrap: true }));

  test('nothing that runs an image and no digest lookup (which would fail on an empty registry); everything else is there', () => {
    expect(boot.json.resource.google_cloud_run_v2_service).toBeUndefined();
    expect(boot.json.resource.google_cloud_run_v2_job).toBeUndefined();
    expect(boot.json.data?.google_artifact_registry_docker_image).toBeUndefined();
    for (const t of ['google_artifact_registry_repository', 'google_sql_database_instance', 'google_storage_bucket', 'google_storage_transfer_job', 'google_service_account']) {
      expect(Object.keys(boot.json.resource[t] ?? {}).length).toBeGreaterThan(0);
    }
    expect(boot.json.output!.image_mirror_subject_id).toBeDefined();
    expect(boot.json.output!.standby_service_uri).toBeUndefined();
  });

  test('stateful resources keep their addresses between bootstrap and the full deploy (no replacement when the flag flips)', () => {
    const full = synthStack().json;
    for (const t of STATEFUL_TYPES) expect(Object.keys(boot.json.resource[t] ?? {})).toEqual(Object.keys(full.resource[t] ?? {}));
  });

  test('a synth warning says what is left out and the next step', () => {
    const warnings = boot.stack.counterparty.node.metadata.map((m) => String(m.data));
    expect(warnings).toEqual(expect.arrayContaining([expect.stringMatching(/bootstrap is true: no application service and no Cloud Run jobs.*docs\/gcp\.md "Bootstrap"/)]));
  });
});

describe('State backend', () => {
  const key = 'projects/acme-cc-ops/locations/europe-west3/keyRings/tf/cryptoKeys/state';

  test('a GCS backend with a customer-managed key when the app gives one', () => {
    const app = Testing.app();
    const stack = new GcpCounterpartyStack(app, 'counterparty-gcp', { plan: referencePlan, stateBackend: { bucket: 'acme-cc-tfstate', kmsEncryptionKey: key } });
    const json = JSON.parse(Testing.synth(stack));
    expect(json.terraform.backend).toEqual({ gcs: { bucket: 'acme-cc-tfstate', prefix: 'counterparty-gcp', kms_encryption_key: key } });
    expect(stack.node.metadata.map((m) => String(m.data)).filter((w) => /plaintext/.test(w))).toEqual([]);
  });

  test('the local backend only without one, with a synth warning about plaintext secrets', () => {
    const { json, stack } = synthStack();
    expect(Object.keys(json.terraform.backend)).toEqual(['local']);
    expect(stack.node.metadata.map((m) => String(m.data))).toEqual(expect.arrayContaining([expect.stringMatching(/stateBackend is not set.*plaintext.*Fix: pass stateBackend/)]));
  });

  test('refuses a backend without a KMS key', () => {
    expect(() => new GcpCounterpartyStack(Testing.app(), 'g', { plan: referencePlan, stateBackend: { bucket: 'acme-cc-tfstate', kmsEncryptionKey: '' } }))
      .toThrow(/^g: stateBackend\.kmsEncryptionKey = "" is not a Cloud KMS key.*Fix: give projects\/<p>/);
  });

  test('from the environment (for bin/counterparty.ts)', () => {
    expect(gcpStateBackendFromEnv({})).toBeUndefined();
    expect(gcpStateBackendFromEnv({ CP_GCP_STATE_BUCKET: 'b', CP_GCP_STATE_KMS_KEY: key })).toEqual({ bucket: 'b', prefix: undefined, kmsEncryptionKey: key });
  });
});
