/**
 * Writes test/policy/fixtures/broken/<rule>--<what>.tf.json: each is a good
 * fixture (gcp-good / azure-good) with ONE deliberate defect that exactly one
 * rule must catch, and test/policy/fixtures/variants/*.tf.json: legitimate
 * alternatives that must pass. Run it after changing a good fixture:
 *
 *   npx ts-node --transpile-only scripts/policy/make-broken-fixtures.ts
 *
 * The test (test/policy/terraform-policy.test.ts) checks that the rule named
 * by each file's prefix fires, and no other.
 */
import * as fs from 'fs';
import * as path from 'path';

type Doc = { resource: Record<string, Record<string, Record<string, unknown>>> } & Record<string, unknown>;

const FIXTURES = path.resolve(__dirname, '../../test/policy/fixtures');
const read = (name: string): Doc => JSON.parse(fs.readFileSync(path.join(FIXTURES, name), 'utf8'));

function set(obj: Record<string, unknown>, dotted: string, value: unknown): void {
  const keys = dotted.split('.');
  let o = obj;
  for (const k of keys.slice(0, -1)) o = o[k] as Record<string, unknown>;
  if (value === undefined) delete o[keys[keys.length - 1]];
  else o[keys[keys.length - 1]] = value;
}

interface Mutation { readonly file: string; readonly base: 'gcp-good.tf.json' | 'azure-good.tf.json'; readonly change: (d: Doc) => void }

const R = (d: Doc, type: string, name: string) => d.resource[type][name];
const gcp = 'gcp-good.tf.json' as const;
const az = 'azure-good.tf.json' as const;

export const BROKEN: readonly Mutation[] = [
  // GCS bucket
  { file: 'gcs_bucket_uniform_access--false', base: gcp, change: (d) => set(R(d, 'google_storage_bucket', 'vault_bucket'), 'uniform_bucket_level_access', false) },
  { file: 'gcs_bucket_uniform_access--missing', base: gcp, change: (d) => set(R(d, 'google_storage_bucket', 'vault_bucket'), 'uniform_bucket_level_access', undefined) },
  { file: 'gcs_bucket_public_access_prevention--inherited', base: gcp, change: (d) => set(R(d, 'google_storage_bucket', 'vault_bucket'), 'public_access_prevention', 'inherited') },
  { file: 'gcs_bucket_cmek--missing', base: gcp, change: (d) => set(R(d, 'google_storage_bucket', 'vault_bucket'), 'encryption', undefined) },
  { file: 'gcs_bucket_cmek--empty', base: gcp, change: (d) => set(R(d, 'google_storage_bucket', 'vault_bucket'), 'encryption.default_kms_key_name', '') },
  { file: 'gcs_bucket_retention--one-second-short', base: gcp, change: (d) => set(R(d, 'google_storage_bucket', 'vault_bucket'), 'retention_policy.retention_period', 35 * 86400 - 1) },
  { file: 'gcs_bucket_retention--missing', base: gcp, change: (d) => set(R(d, 'google_storage_bucket', 'vault_bucket'), 'retention_policy', undefined) },
  {
    file: 'gcs_bucket_retention--second-bucket', base: gcp, change: (d) => {
      const copy = JSON.parse(JSON.stringify(R(d, 'google_storage_bucket', 'vault_bucket')));
      copy.name = 'acme-cc-scratch-acme-cc-dr';
      copy.retention_policy.retention_period = 86400;
      d.resource.google_storage_bucket.scratch = copy;
    },
  },
  // Cloud SQL
  { file: 'gcp_sql_deletion_protection--false', base: gcp, change: (d) => set(R(d, 'google_sql_database_instance', 'standby_db'), 'deletion_protection', false) },
  { file: 'gcp_sql_deletion_protection--implicit', base: gcp, change: (d) => set(R(d, 'google_sql_database_instance', 'standby_db'), 'deletion_protection', undefined) },
  { file: 'gcp_sql_backups--disabled', base: gcp, change: (d) => set(R(d, 'google_sql_database_instance', 'standby_db'), 'settings.backup_configuration.enabled', false) },
  { file: 'gcp_sql_backups--missing', base: gcp, change: (d) => set(R(d, 'google_sql_database_instance', 'standby_db'), 'settings.backup_configuration', undefined) },
  // Cloud SQL private IP only
  { file: 'gcp_sql_private_ip_only--public-ip', base: gcp, change: (d) => set(R(d, 'google_sql_database_instance', 'standby_db'), 'settings.ip_configuration.ipv4_enabled', true) },
  { file: 'gcp_sql_private_ip_only--no-network', base: gcp, change: (d) => set(R(d, 'google_sql_database_instance', 'standby_db'), 'settings.ip_configuration.private_network', undefined) },
  // Storage Transfer never overwrites or deletes in the vault
  { file: 'gcp_transfer_never_overwrites--different', base: gcp, change: (d) => set(R(d, 'google_storage_transfer_job', 'nightly_pull'), 'transfer_spec.transfer_options.overwrite_when', 'DIFFERENT') },
  { file: 'gcp_transfer_never_overwrites--default', base: gcp, change: (d) => set(R(d, 'google_storage_transfer_job', 'nightly_pull'), 'transfer_spec.transfer_options.overwrite_when', undefined) },
  { file: 'gcp_transfer_never_overwrites--deletes-in-sink', base: gcp, change: (d) => set(R(d, 'google_storage_transfer_job', 'nightly_pull'), 'transfer_spec.transfer_options.delete_objects_unique_in_sink', true) },
  // Cloud Run images by digest
  { file: 'gcp_images_by_digest--service-tag', base: gcp, change: (d) => set(R(d, 'google_cloud_run_v2_service', 'standby_app'), 'template.containers', [{ image: 'europe-west3-docker.pkg.dev/acme-cc-dr/acme-cc-images/contact-centre-app:2.3.1' }]) },
  { file: 'gcp_images_by_digest--job-ecr', base: gcp, change: (d) => set(R(d, 'google_cloud_run_v2_job', 'mirror'), 'template.template.containers', [{ image: '111122223333.dkr.ecr.eu-central-1.amazonaws.com/counterparty-jobs@sha256:' + '0'.repeat(64) }]) },
  // GCP standby exposure
  { file: 'gcp_standby_not_public--ingress-all', base: gcp, change: (d) => set(R(d, 'google_cloud_run_v2_service', 'standby_app'), 'ingress', 'INGRESS_TRAFFIC_ALL') },
  { file: 'gcp_standby_not_public--ingress-default', base: gcp, change: (d) => set(R(d, 'google_cloud_run_v2_service', 'standby_app'), 'ingress', undefined) },
  { file: 'gcp_standby_not_public--all-users-invoker', base: gcp, change: (d) => set(R(d, 'google_cloud_run_v2_service_iam_member', 'app_invoker'), 'member', 'allUsers') },
  // Azure storage account
  { file: 'azure_storage_tls12--tls1_0', base: az, change: (d) => set(R(d, 'azurerm_storage_account', 'vault'), 'min_tls_version', 'TLS1_0') },
  { file: 'azure_storage_tls12--missing', base: az, change: (d) => set(R(d, 'azurerm_storage_account', 'vault'), 'min_tls_version', undefined) },
  { file: 'azure_storage_no_shared_key--enabled', base: az, change: (d) => set(R(d, 'azurerm_storage_account', 'vault'), 'shared_access_key_enabled', true) },
  { file: 'azure_storage_no_shared_key--default', base: az, change: (d) => set(R(d, 'azurerm_storage_account', 'vault'), 'shared_access_key_enabled', undefined) },
  { file: 'azure_storage_infrastructure_encryption--off', base: az, change: (d) => set(R(d, 'azurerm_storage_account', 'vault'), 'infrastructure_encryption_enabled', false) },
  { file: 'azure_storage_cmk--no-cmk-resource', base: az, change: (d) => delete (d.resource as Record<string, unknown>).azurerm_storage_account_customer_managed_key },
  {
    file: 'azure_storage_cmk--cmk-on-other-account', base: az, change: (d) => {
      const copy = JSON.parse(JSON.stringify(R(d, 'azurerm_storage_account', 'vault')));
      copy.name = 'acmeccspare';
      d.resource.azurerm_storage_account.spare = copy;
    },
  },
  { file: 'azure_storage_versioning--off', base: az, change: (d) => set(R(d, 'azurerm_storage_account', 'vault'), 'blob_properties.versioning_enabled', false) },
  { file: 'azure_storage_immutability--missing', base: az, change: (d) => set(R(d, 'azurerm_storage_account', 'vault'), 'immutability_policy', undefined) },
  { file: 'azure_storage_immutability--disabled', base: az, change: (d) => set(R(d, 'azurerm_storage_account', 'vault'), 'immutability_policy.state', 'Disabled') },
  { file: 'azure_storage_immutability--short', base: az, change: (d) => set(R(d, 'azurerm_storage_account', 'vault'), 'immutability_policy.period_since_creation_in_days', 34) },
  // Azure PostgreSQL
  { file: 'azure_postgres_deletion_protection--no-lock', base: az, change: (d) => delete d.resource.azurerm_management_lock.db_lock },
  { file: 'azure_postgres_deletion_protection--read-only-is-not-lock-level', base: az, change: (d) => set(R(d, 'azurerm_management_lock', 'db_lock'), 'lock_level', 'None') },
  { file: 'azure_postgres_backups--missing', base: az, change: (d) => set(R(d, 'azurerm_postgresql_flexible_server', 'standby_db'), 'backup_retention_days', undefined) },
  { file: 'azure_postgres_backups--short', base: az, change: (d) => set(R(d, 'azurerm_postgresql_flexible_server', 'standby_db'), 'backup_retention_days', 1) },
  // Azure standby exposure
  { file: 'azure_standby_not_public--external', base: az, change: (d) => set(R(d, 'azurerm_container_app', 'standby_app'), 'ingress.external_enabled', true) },
  { file: 'azure_standby_not_public--external-default', base: az, change: (d) => set(R(d, 'azurerm_container_app', 'standby_app'), 'ingress.external_enabled', undefined) },
  // Azure federation (the Entra app registration the AWS role trusts)
  { file: 'azure_federation_v1_tokens--v2', base: az, change: (d) => set(R(d, 'azuread_application', 'federation'), 'api.requested_access_token_version', 2) },
  { file: 'azure_federation_v1_tokens--default', base: az, change: (d) => set(R(d, 'azuread_application', 'federation'), 'api', undefined) },
  { file: 'azure_federation_v1_tokens--exchange-audience', base: az, change: (d) => set(R(d, 'azuread_application', 'federation'), 'identifier_uris', ['api://AzureADTokenExchange']) },
  { file: 'azure_federation_assignment_required--false', base: az, change: (d) => set(R(d, 'azuread_service_principal', 'federation'), 'app_role_assignment_required', false) },
  { file: 'azure_federation_assignment_required--default', base: az, change: (d) => set(R(d, 'azuread_service_principal', 'federation'), 'app_role_assignment_required', undefined) },
  // Key Vault secret references from Container Apps need the vault's private endpoint (Container Apps is not a trusted service)
  { file: 'azure_key_vault_private_endpoint--missing', base: az, change: (d) => { delete (d.resource as Record<string, unknown>).azurerm_private_endpoint; } },
  { file: 'azure_key_vault_private_endpoint--not-vault', base: az, change: (d) => set(R(d, 'azurerm_private_endpoint', 'kv'), 'private_service_connection.subresource_names', ['blob']) },
  // prevent_destroy on every stateful type
  { file: 'stateful_prevent_destroy--gcs-bucket', base: gcp, change: (d) => set(R(d, 'google_storage_bucket', 'vault_bucket'), 'lifecycle', undefined) },
  { file: 'stateful_prevent_destroy--kms-key-false', base: gcp, change: (d) => set(R(d, 'google_kms_crypto_key', 'keys_key'), 'lifecycle.prevent_destroy', false) },
  { file: 'stateful_prevent_destroy--key-ring', base: gcp, change: (d) => set(R(d, 'google_kms_key_ring', 'keys_ring'), 'lifecycle', undefined) },
  { file: 'stateful_prevent_destroy--sql', base: gcp, change: (d) => set(R(d, 'google_sql_database_instance', 'standby_db'), 'lifecycle', undefined) },
  { file: 'stateful_prevent_destroy--secret', base: gcp, change: (d) => set(R(d, 'google_secret_manager_secret', 'db_password'), 'lifecycle', undefined) },
  { file: 'stateful_prevent_destroy--artifact-registry', base: gcp, change: (d) => set(R(d, 'google_artifact_registry_repository', 'images'), 'lifecycle', undefined) },
  { file: 'stateful_prevent_destroy--storage-account', base: az, change: (d) => set(R(d, 'azurerm_storage_account', 'vault'), 'lifecycle', undefined) },
  { file: 'stateful_prevent_destroy--key-vault', base: az, change: (d) => set(R(d, 'azurerm_key_vault', 'kv'), 'lifecycle', undefined) },
  { file: 'stateful_prevent_destroy--key-vault-key', base: az, change: (d) => set(R(d, 'azurerm_key_vault_key', 'cmk'), 'lifecycle', undefined) },
  { file: 'stateful_prevent_destroy--postgres', base: az, change: (d) => set(R(d, 'azurerm_postgresql_flexible_server', 'standby_db'), 'lifecycle', undefined) },
  { file: 'stateful_prevent_destroy--container-registry', base: az, change: (d) => set(R(d, 'azurerm_container_registry', 'images'), 'lifecycle', undefined) },
  { file: 'stateful_prevent_destroy--container', base: az, change: (d) => set(R(d, 'azurerm_storage_container', 'exports'), 'lifecycle', undefined) },
];

/** Legitimate alternatives the rules must accept. */
export const VARIANTS: readonly Mutation[] = [
  {
    file: 'azure-inline-cmk', base: az, change: (d) => {
      delete (d.resource as Record<string, unknown>).azurerm_storage_account_customer_managed_key;
      set(R(d, 'azurerm_storage_account', 'vault'), 'customer_managed_key', { key_vault_key_id: '${azurerm_key_vault_key.cmk.versionless_id}', user_assigned_identity_id: '${azurerm_user_assigned_identity.storage.id}' });
    },
  },
  {
    file: 'azure-resource-group-lock', base: az, change: (d) => {
      delete d.resource.azurerm_management_lock.db_lock;
      d.resource.azurerm_management_lock.rg_lock = { name: 'acme-cc-rg-lock', scope: '${azurerm_resource_group.rg.id}', lock_level: 'CanNotDelete' };
    },
  },
  { file: 'azure-locked-immutability', base: az, change: (d) => set(R(d, 'azurerm_storage_account', 'vault'), 'immutability_policy.state', 'Locked') },
  { file: 'gcp-longer-retention', base: gcp, change: (d) => set(R(d, 'google_storage_bucket', 'vault_bucket'), 'retention_policy.retention_period', 36 * 86400) },
  { file: 'gcp-internal-load-balancer', base: gcp, change: (d) => set(R(d, 'google_cloud_run_v2_service', 'standby_app'), 'ingress', 'INGRESS_TRAFFIC_INTERNAL_LOAD_BALANCER') },
  { file: 'azure-no-ingress', base: az, change: (d) => set(R(d, 'azurerm_container_app', 'standby_app'), 'ingress', undefined) },
];

function write(dir: string, list: readonly Mutation[]): void {
  fs.rmSync(path.join(FIXTURES, dir), { recursive: true, force: true });
  fs.mkdirSync(path.join(FIXTURES, dir), { recursive: true });
  for (const m of list) {
    const doc = read(m.base);
    m.change(doc);
    fs.writeFileSync(path.join(FIXTURES, dir, `${m.file}.tf.json`), `${JSON.stringify(doc, null, 2)}\n`);
  }
}

if (require.main === module) {
  write('broken', BROKEN);
  write('variants', VARIANTS);
  process.stdout.write(`wrote ${BROKEN.length} broken and ${VARIANTS.length} variant fixtures under ${path.relative(process.cwd(), FIXTURES)}\n`);
}
