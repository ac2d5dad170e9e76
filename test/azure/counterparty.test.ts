import { Testing } from 'cdktf';
import { ContainerApp } from '@cdktf/provider-azurerm/lib/container-app';
import { ContainerRegistry } from '@cdktf/provider-azurerm/lib/container-registry';
import { KeyVault } from '@cdktf/provider-azurerm/lib/key-vault';
import { KeyVaultKey } from '@cdktf/provider-azurerm/lib/key-vault-key';
import { ManagementLock } from '@cdktf/provider-azurerm/lib/management-lock';
import { PostgresqlFlexibleServer } from '@cdktf/provider-azurerm/lib/postgresql-flexible-server';
import { StorageAccount } from '@cdktf/provider-azurerm/lib/storage-account';
import { StorageContainer } from '@cdktf/provider-azurerm/lib/storage-container';
import { AzurermProvider } from '@cdktf/provider-azurerm/lib/provider';
import { counterpartySchedule, naming, resolvePlan } from '../../lib/core';
import { AZURE_OUTPUTS, blobPathCondition } from '../../lib/azure';
import { STATEFUL_TERRAFORM_TYPES } from '../../scripts/policy/stateful-types';

/** The project's one list of stateful Terraform types (shared with the policy rules and the upgrade check). */
const STATEFUL_RESOURCE_TYPES = STATEFUL_TERRAFORM_TYPES.filter((t) => t.startsWith('azurerm_'));
import { only, ref, referencePlan, synthPlan, withAzure, type Synth } from './helpers';

Testing.setupJest();

const plan = resolvePlan(referencePlan);
const az = plan.counterparties.azure!;

describe('AzureCounterparty from the reference plan', () => {
  let s: Synth;
  beforeAll(() => { s = synthPlan(); });

  test('the provider: subscription and tenant from the plan, Entra ID for storage, nothing purged on destroy', () => {
    expect(s.text).toHaveProviderWithProperties(AzurermProvider, {
      subscription_id: az.subscriptionId,
      tenant_id: az.tenantId,
      storage_use_azuread: true,
      features: [expect.objectContaining({ key_vault: [expect.objectContaining({ purge_soft_delete_on_destroy: false, purge_soft_deleted_keys_on_destroy: false, purge_soft_deleted_secrets_on_destroy: false })] })],
    });
  });

  test('storage account: StorageV2, TLS 1.2, no shared key, no public blobs, infrastructure encryption, firewall Deny', () => {
    expect(s.text).toHaveResourceWithProperties(StorageAccount, {
      name: naming.azureStorageAccountName(plan),
      location: az.location,
      account_kind: 'StorageV2',
      min_tls_version: 'TLS1_2',
      shared_access_key_enabled: false,
      allow_nested_items_to_be_public: false,
      infrastructure_encryption_enabled: true,
      network_rules: expect.objectContaining({ default_action: 'Deny', bypass: ['AzureServices'], ip_rules: [] }),
    });
  });

  test('storage account: versioning, change feed, blob and container delete retention, immutability Unlocked for the retention', () => {
    const account = only(s, 'azurerm_storage_account');
    expect(account.blob_properties).toEqual({
      versioning_enabled: true,
      change_feed_enabled: true,
      delete_retention_policy: { days: plan.retentionDays },
      container_delete_retention_policy: { days: plan.retentionDays },
    });
    expect(account.immutability_policy).toEqual({ state: 'Unlocked', period_since_creation_in_days: plan.retentionDays, allow_protected_append_writes: false });
  });

  test('storage account: the customer-managed key from our own Key Vault, used by the encryption identity, which may only wrap/unwrap with that key', () => {
    const cmk = only(s, 'azurerm_storage_account_customer_managed_key');
    const cmkIdentity = ref(s, 'azurerm_user_assigned_identity', 'EncryptionIdentity/Identity', 'id');
    expect(cmk).toMatchObject({
      storage_account_id: ref(s, 'azurerm_storage_account', 'Storage/Account', 'id'),
      key_vault_id: ref(s, 'azurerm_key_vault', 'KeyVault/Vault', 'id'),
      key_name: ref(s, 'azurerm_key_vault_key', 'KeyVault/Key', 'name'),
      user_assigned_identity_id: cmkIdentity,
    });
    expect(only(s, 'azurerm_storage_account').identity).toEqual({ type: 'UserAssigned', identity_ids: [cmkIdentity] });
    const grants = Object.values(s.json.resource.azurerm_role_assignment).filter((r) => r.role_definition_name === 'Key Vault Crypto Service Encryption User');
    expect(grants).toHaveLength(1);
    expect(grants[0]).toMatchObject({
      scope: ref(s, 'azurerm_key_vault_key', 'KeyVault/Key', 'resource_versionless_id'),
      principal_id: ref(s, 'azurerm_user_assigned_identity', 'EncryptionIdentity/Identity', 'principal_id'),
    });
    // The key is applied only once the identity may use it.
    expect(cmk.depends_on).toContain(ref(s, 'azurerm_role_assignment', 'KeyVault/EncryptionIdentityKeyAccess', 'x').replace(/^\$\{(.*)\.x\}$/, '$1'));
  });

  test('storage account: CanNotDelete management lock on the account', () => {
    expect(s.text).toHaveResourceWithProperties(ManagementLock, {
      lock_level: 'CanNotDelete',
      scope: ref(s, 'azurerm_storage_account', 'Storage/Account', 'id'),
    });
  });

  test('the exports container is private and created through Resource Manager (storage_account_id)', () => {
    expect(s.text).toHaveResourceWithProperties(StorageContainer, {
      name: naming.AZURE_EXPORTS_CONTAINER,
      storage_account_id: ref(s, 'azurerm_storage_account', 'Storage/Account', 'id'),
      container_access_type: 'private',
    });
  });

  test('every stateful resource has lifecycle.preventDestroy (walks the synthesized JSON)', () => {
    const missing: string[] = [];
    let checked = 0;
    for (const type of STATEFUL_RESOURCE_TYPES) {
      const all = s.json.resource[type];
      expect(all).toBeDefined();
      for (const [id, r] of Object.entries(all)) {
        checked++;
        if (r.lifecycle?.prevent_destroy !== true) missing.push(`${type}.${id}`);
      }
    }
    expect(missing).toEqual([]);
    expect(checked).toBeGreaterThanOrEqual(STATEFUL_RESOURCE_TYPES.length);
    // The identity the AWS trust names by principal ID is kept too.
    expect(s.json.resource.azurerm_user_assigned_identity[ref(s, 'azurerm_user_assigned_identity', 'CopyIdentity/Identity', 'id').split('.')[1]].lifecycle).toEqual({ prevent_destroy: true });
  });

  test('Key Vault: RBAC, purge protection, soft delete, firewall Deny with Azure services bypass; RSA key with rotation', () => {
    expect(s.text).toHaveResourceWithProperties(KeyVault, {
      name: naming.azureKeyVaultName(plan),
      tenant_id: az.tenantId,
      rbac_authorization_enabled: true,
      purge_protection_enabled: true,
      soft_delete_retention_days: 90,
      network_acls: expect.objectContaining({ default_action: 'Deny', bypass: 'AzureServices', ip_rules: [] }),
    });
    expect(s.text).toHaveResourceWithProperties(KeyVaultKey, {
      key_type: 'RSA',
      key_size: 3072,
      key_opts: ['wrapKey', 'unwrapKey'],
      rotation_policy: expect.objectContaining({ automatic: { time_after_creation: 'P1Y' }, expire_after: 'P2Y' }),
    });
  });

  test('the plan\'s allowedIpRanges open the Key Vault and storage firewalls (and nothing else does)', () => {
    const t = synthPlan(withAzure({ allowedIpRanges: ['203.0.113.0/24', '198.51.100.7/32'] }));
    expect(only(t, 'azurerm_key_vault').network_acls.ip_rules).toEqual(['203.0.113.0/24', '198.51.100.7/32']);
    expect(only(t, 'azurerm_storage_account').network_rules.ip_rules).toEqual(['203.0.113.0/24', '198.51.100.7']);
  });

  test('copy job: scheduled at the plan\'s copy time, runs `copy` from this side\'s registry as the copy identity, with the contract env', () => {
    const job = Object.values(s.json.resource.azurerm_container_app_job).find((j) => j.name === naming.azureResourceName(plan, 'caj', 'copy'))!;
    const copyIdentity = ref(s, 'azurerm_user_assigned_identity', 'CopyIdentity/Identity', 'id');
    const acr = ref(s, 'azurerm_container_registry', 'Registry/Registry', 'login_server');
    expect(job.schedule_trigger_config.cron_expression).toBe(counterpartySchedule(plan).copyCronUtc);
    expect(job.identity).toEqual({ type: 'UserAssigned', identity_ids: [copyIdentity] });
    expect(job.registry).toEqual([{ server: acr, identity: copyIdentity }]);
    const container = job.template.container[0];
    expect(container.args).toEqual(['copy']);
    expect(container.image).toBe(`${acr}/${plan.images.jobs}`);
    const env = Object.fromEntries(container.env.map((e: { name: string; value: string }) => [e.name, e.value]));
    expect(env).toEqual({
      AZURE_CLIENT_ID: ref(s, 'azurerm_user_assigned_identity', 'CopyIdentity/Identity', 'client_id'),
      CP_SOURCE_BUCKET: naming.exportBucketName(plan),
      AWS_REGION: plan.primary.region,
      AWS_ROLE_ARN: naming.azureReaderRoleArn(plan),
      CP_AZURE_TOKEN_AUDIENCE: naming.azureFederationAudience(plan),
      CP_STORE: `azblob://${naming.azureStorageAccountName(plan)}/${naming.AZURE_EXPORTS_CONTAINER}`,
      // What the AWS role trusts, for the job's self-check before it copies.
      CP_TRUSTED_ISSUER: `https://sts.windows.net/${az.tenantId}/`,
      CP_TRUSTED_AUDIENCE: naming.azureFederationAudience(plan),
      CP_TRUSTED_SUBJECT: az.copyIdentityPrincipalId,
      CP_SHARD: '0/4',
      CP_COPY_PHASE: 'data',
    });
  });

  test('no AWS access key, secret key or session token appears anywhere in the template', () => {
    expect(s.text).not.toMatch(/AWS_ACCESS_KEY_ID|AWS_SECRET_ACCESS_KEY|AWS_SESSION_TOKEN|aws_access_key|secret_key|AKIA[0-9A-Z]{16}|ASIA[0-9A-Z]{16}/i);
    // And nothing pulls from ECR at run time: every image is on this side's registry.
    const images = [
      ...Object.values(s.json.resource.azurerm_container_app_job).map((j) => j.template.container[0].image),
      ...Object.values(s.json.resource.azurerm_container_app).map((a) => a.template.container[0].image),
    ];
    // 4 copy shards, the manifests copy, verify, mirror, prune, and the application.
    expect(images).toHaveLength(9);
    for (const image of images) expect(image).toMatch(/^\$\{azurerm_container_registry\.[^}]+\.login_server\}\//);
  });

  test('verify job: after the copy, runs verify-and-restore as its own identity against the standby, password from Key Vault', () => {
    const job = Object.values(s.json.resource.azurerm_container_app_job).find((j) => j.name === naming.azureResourceName(plan, 'caj', 'verify'))!;
    const verifyIdentity = ref(s, 'azurerm_user_assigned_identity', 'VerifyIdentity/Identity', 'id');
    expect(job.schedule_trigger_config.cron_expression).toBe(counterpartySchedule(plan).verifyCronUtc);
    expect(job.identity.identity_ids).toEqual([verifyIdentity]);
    expect(job.template.container[0].args).toEqual(['verify-and-restore']);
    const env = Object.fromEntries(job.template.container[0].env.map((e: { name: string; value?: string; secret_name?: string }) => [e.name, e.value ?? `secret:${e.secret_name}`]));
    expect(env).toMatchObject({
      CP_STORE: `azblob://${naming.azureStorageAccountName(plan)}/exports`,
      CP_NIGHT: 'latest',
      PGHOST: ref(s, 'azurerm_postgresql_flexible_server', 'Database/Server', 'fqdn'),
      PGDATABASE: 'crm',
      PGUSER: 'cpadmin',
      PGPASSWORD: 'secret:pg-password',
    });
    expect(job.secret).toEqual([
      { name: 'pg-password', key_vault_secret_id: ref(s, 'azurerm_key_vault_secret', 'Database/AdminPasswordSecret', 'versionless_id'), identity: verifyIdentity },
      // The restore (re)creates the application's own login with this password.
      { name: 'app-db-password', key_vault_secret_id: ref(s, 'azurerm_key_vault_secret', 'Database/AppPasswordSecret', 'versionless_id'), identity: verifyIdentity },
    ]);
    expect(env).toMatchObject({ CP_APP_DB_USER: 'cp_app', CP_APP_DB_PASSWORD: 'secret:app-db-password', CP_RPO_HOURS: String(plan.rpoHours), CP_ALARM_GRACE_HOURS: String(plan.alarmGraceHours) });
    expect(env.CP_DATASETS).toBe(plan.datasets.map((d) => `${d.name}:${d.kind}`).join(','));
  });

  test('role assignments: least privilege at the narrowest scope', () => {
    const grants = Object.values(s.json.resource.azurerm_role_assignment).map((r) => ({ role: r.role_definition_name, scope: r.scope, principal: r.principal_id, condition: r.condition }));
    const principal = (who: string) => ref(s, 'azurerm_user_assigned_identity', `${who}/Identity`, 'principal_id');
    const container = ref(s, 'azurerm_storage_container', 'Storage/Exports', 'resource_manager_id');
    const secret = ref(s, 'azurerm_key_vault_secret', 'Database/AdminPasswordSecret', 'resource_versionless_id');
    const appSecret = ref(s, 'azurerm_key_vault_secret', 'Database/AppPasswordSecret', 'resource_versionless_id');
    const registry = ref(s, 'azurerm_container_registry', 'Registry/Registry', 'id');
    const of = (who: string) => grants.filter((g) => g.principal === principal(who)).map(({ role, scope, condition }) => ({ role, scope, condition }));
    expect(of('CopyIdentity')).toEqual(expect.arrayContaining([
      { role: 'Storage Blob Data Contributor', scope: container, condition: undefined },
      { role: 'AcrPull', scope: registry, condition: undefined },
    ]));
    expect(of('CopyIdentity')).toHaveLength(2);
    // Only the mirror identity may push images, and only to this registry; it has no other right.
    expect(grants.filter((g) => g.role === 'AcrPush')).toEqual([{ role: 'AcrPush', scope: registry, principal: principal('MirrorIdentity'), condition: undefined }]);
    expect(of('MirrorIdentity')).toHaveLength(1);
    // Prune reads the container and may write/delete only under the blob prefix.
    expect(of('PruneIdentity')).toEqual(expect.arrayContaining([
      { role: 'Storage Blob Data Reader', scope: container, condition: undefined },
      { role: 'Storage Blob Data Contributor', scope: container, condition: blobPathCondition('blobs/') },
    ]));
    expect(of('VerifyIdentity')).toEqual(expect.arrayContaining([
      { role: 'Storage Blob Data Reader', scope: container, condition: undefined },
      { role: 'Storage Blob Data Contributor', scope: container, condition: blobPathCondition(naming.VERIFICATIONS_PREFIX) },
      { role: 'Key Vault Secrets User', scope: secret, condition: undefined },
      { role: 'Key Vault Secrets User', scope: appSecret, condition: undefined },
      { role: 'AcrPull', scope: registry, condition: undefined },
    ]));
    expect(of('VerifyIdentity')).toHaveLength(5);
    // The standby app: read-only on the vault container, its own login's password, never the admin's.
    expect(of('AppIdentity')).toEqual(expect.arrayContaining([
      { role: 'AcrPull', scope: registry, condition: undefined },
      { role: 'Key Vault Secrets User', scope: appSecret, condition: undefined },
      { role: 'Storage Blob Data Reader', scope: container, condition: undefined },
    ]));
    expect(of('AppIdentity')).toHaveLength(3);
    expect(of('AppIdentity').some((g) => g.scope === secret)).toBe(false);
    // No blob data role at the account, group or subscription.
    for (const g of grants.filter((x) => x.role.startsWith('Storage Blob'))) expect(g.scope).toBe(container);
  });

  test('the verification-records condition only lets writes through under verifications/', () => {
    const c = blobPathCondition('verifications/');
    expect(c).toContain("blobs:path] StringStartsWith 'verifications/'");
    for (const action of ['write', 'add/action', 'delete']) expect(c).toContain(`!(ActionMatches{'Microsoft.Storage/storageAccounts/blobServices/containers/blobs/${action}'})`);
  });

  test('standby database: small SKU, backups, CMK, no public access, VNet-integrated, password only by reference', () => {
    const db = only(s, 'azurerm_postgresql_flexible_server');
    const pw = ref(s, 'random_password', 'Database/AdminPassword', 'result');
    expect(db).toMatchObject({
      sku_name: 'B_Standard_B1ms',
      backup_retention_days: 7,
      geo_redundant_backup_enabled: false,
      public_network_access_enabled: false,
      delegated_subnet_id: ref(s, 'azurerm_subnet', 'Network/DatabaseSubnet', 'id'),
      administrator_password: pw,
      customer_managed_key: {
        key_vault_key_id: ref(s, 'azurerm_key_vault_key', 'KeyVault/Key', 'versionless_id'),
        primary_user_assigned_identity_id: ref(s, 'azurerm_user_assigned_identity', 'EncryptionIdentity/Identity', 'id'),
      },
    });
    const adminSecret = Object.values(s.json.resource.azurerm_key_vault_secret).find((x) => x.name === 'standby-db-admin-password')!;
    expect(adminSecret.value).toBe(pw);
    expect(s.text).toHaveResourceWithProperties(PostgresqlFlexibleServer, { lifecycle: expect.objectContaining({ prevent_destroy: true }) });
  });

  test('no plaintext password: every password-like field is a reference to random_password', () => {
    const found: string[] = [];
    const walk = (v: unknown, path: string, key: string) => {
      if (v && typeof v === 'object') for (const [k, x] of Object.entries(v)) walk(x, `${path}.${k}`, k);
      else if (typeof v === 'string' && (/password(_wo)?$/.test(key) || (path.startsWith('resource.azurerm_key_vault_secret.') && key === 'value'))) found.push(`${path}=${v}`);
    };
    walk(s.json.resource, 'resource', '');
    expect(found.length).toBeGreaterThanOrEqual(2);
    for (const f of found) expect(f).toMatch(/=\$\{random_password\.[^}]+\.result\}$/);
  });

  test('standby application: scaled to zero with no external ingress in standby', () => {
    expect(s.text).toHaveResourceWithProperties(ContainerApp, {
      template: expect.objectContaining({ min_replicas: 0 }),
      ingress: expect.objectContaining({ external_enabled: false }),
    });
    const app = only(s, 'azurerm_container_app');
    expect(app.registry).toEqual([{ server: ref(s, 'azurerm_container_registry', 'Registry/Registry', 'login_server'), identity: ref(s, 'azurerm_user_assigned_identity', 'AppIdentity/Identity', 'id') }]);
  });

  test('standby database: a CanNotDelete lock on the server (its deletion protection) and preventDestroy on its databases', () => {
    const server = ref(s, 'azurerm_postgresql_flexible_server', 'Database/Server', 'id');
    const locks = Object.values(s.json.resource.azurerm_management_lock).filter((l) => l.scope === server);
    expect(locks).toEqual([expect.objectContaining({ lock_level: 'CanNotDelete' })]);
    for (const db of Object.values(s.json.resource.azurerm_postgresql_flexible_server_database)) expect(db.lifecycle).toEqual({ prevent_destroy: true });
  });

  test('mode active (the failover switch): at least one replica and external ingress', () => {
    const t = synthPlan(withAzure({ mode: 'active', applicationAllowedIpRanges: ['203.0.113.0/24'] }));
    const app = only(t, 'azurerm_container_app');
    expect(app.template.min_replicas).toBeGreaterThanOrEqual(1);
    expect(app.ingress.external_enabled).toBe(true);
    // Restricted by default: only the allow-listed range reaches it.
    expect(app.ingress.ip_security_restriction).toEqual([expect.objectContaining({ action: 'Allow', ip_address_range: '203.0.113.0/24' })]);
    // While serving, the nightly job verifies the copies but never restores over the live database.
    const verify = Object.values(t.json.resource.azurerm_container_app_job).find((j) => j.name === naming.azureResourceName(plan, 'caj', 'verify'))!;
    expect(verify.template.container[0].args).toEqual(['verify']);
    // Switching does not touch the data.
    expect(only(t, 'azurerm_storage_account')).toEqual(only(s, 'azurerm_storage_account'));
  });

  test('immutability Locked only with the plan\'s opt-in', () => {
    const t = synthPlan({ ...referencePlan, immutability: { ...referencePlan.immutability, lock: true, acknowledgeLockIsIrreversible: true } });
    expect(only(t, 'azurerm_storage_account').immutability_policy).toEqual({ state: 'Locked', period_since_creation_in_days: plan.retentionDays, allow_protected_append_writes: false });
  });

  test('registry: admin user and anonymous pull disabled', () => {
    expect(s.text).toHaveResourceWithProperties(ContainerRegistry, { name: naming.azureContainerRegistryName(plan), admin_enabled: false, anonymous_pull_enabled: false });
  });

  test('jobs\' logs go to the Log Analytics workspace the alerts query', () => {
    const env = only(s, 'azurerm_container_app_environment');
    const workspace = ref(s, 'azurerm_log_analytics_workspace', 'Environment/Workspace', 'id');
    expect(env).toMatchObject({ logs_destination: 'log-analytics', log_analytics_workspace_id: workspace, infrastructure_subnet_id: ref(s, 'azurerm_subnet', 'Network/AppsSubnet', 'id') });
    for (const rule of Object.values(s.json.resource.azurerm_monitor_scheduled_query_rules_alert_v2)) expect(rule.scopes).toEqual([workspace]);
  });

  test('alerts: stale verification and copy within RPO + grace, failure lines, e-mail action group from the plan', () => {
    const rules = Object.values(s.json.resource.azurerm_monitor_scheduled_query_rules_alert_v2);
    const byName = Object.fromEntries(rules.map((r) => [r.name, r]));
    const hours = plan.rpoHours + plan.alarmGraceHours;
    const stale = byName[`alert-${plan.system}-verify-stale`];
    expect(stale.criteria[0]).toMatchObject({ operator: 'LessThan', threshold: 1, time_aggregation_method: 'Count' });
    expect(stale.criteria[0].query).toContain(`ago(${hours}h)`);
    // "Nothing reported" counts any verify line: a failing run is a failure alert, not silence.
    expect(stale.criteria[0].query).toContain('tostring(line.event) in ("counterparty.verify") and (true)');
    expect(stale.window_duration).toBe('P2D');
    expect(byName[`alert-${plan.system}-copy-stale`].criteria[0].query).toContain('in ("counterparty.copy") and tostring(line.result) == "success"');
    const failure = byName[`alert-${plan.system}-job-failure`];
    expect(failure.criteria[0]).toMatchObject({ operator: 'GreaterThan', threshold: 0 });
    expect(failure.criteria[0].query).toContain('"counterparty.copy", "counterparty.verify", "counterparty.restore", "counterparty.mirror", "counterparty.prune"');
    expect(failure.criteria[0].query).toContain('tostring(line.result) == "failure"');
    const group = only(s, 'azurerm_monitor_action_group');
    expect(group.email_receiver.map((r: { email_address: string }) => r.email_address)).toEqual(plan.notifications.emails);
    for (const r of rules) expect(r.action.action_groups).toEqual([ref(s, 'azurerm_monitor_action_group', 'Alerts/ActionGroup', 'id')]);
  });

  test('outputs the AWS half relies on, under stable names', () => {
    expect(s.json.output[AZURE_OUTPUTS.copyIdentityPrincipalId].value).toBe(ref(s, 'azurerm_user_assigned_identity', 'CopyIdentity/Identity', 'principal_id'));
    expect(s.json.output.copy_identity_principal_id).toBeDefined();
    expect(s.json.output.azure_oidc_issuer.value).toBe(naming.azureOidcIssuer(az.tenantId));
    expect(s.json.output.azure_token_audience.value).toBe(naming.azureFederationAudience(plan));
    expect(s.json.output.mirror_identity_principal_id.value).toBe(ref(s, 'azurerm_user_assigned_identity', 'MirrorIdentity/Identity', 'principal_id'));
    expect(s.json.output.aws_reader_role_arn.value).toBe(naming.azureReaderRoleArn(plan));
  });

  test('a custom token audience flows to the job and the output', () => {
    const t = synthPlan(withAzure({ tokenAudience: 'api://counterparty-acme' }));
    expect(t.json.output.azure_token_audience.value).toBe('api://counterparty-acme');
    const job = Object.values(t.json.resource.azurerm_container_app_job).find((j) => j.template.container[0].args[0] === 'copy')!;
    expect(job.template.container[0].env).toContainEqual({ name: 'CP_AZURE_TOKEN_AUDIENCE', value: 'api://counterparty-acme' });
  });

  test('plan warnings become synth-time warnings (missing copyIdentityPrincipalId)', () => {
    const { copyIdentityPrincipalId: _omit, ...rest } = referencePlan.counterparties.azure!;
    const t = synthPlan({ ...referencePlan, counterparties: { ...referencePlan.counterparties, azure: rest } });
    const warnings = t.stack.node.findAll().flatMap((c) => c.node.metadata).filter((m) => m.type === '@cdktf/warn').map((m) => String(m.data));
    expect(warnings.some((w) => w.includes('counterparties.azure.copyIdentityPrincipalId'))).toBe(true);
    // The reference synth's only warning is its local backend.
    const none = s.stack.node.findAll().flatMap((c) => c.node.metadata).filter((m) => m.type === '@cdktf/warn').map((m) => String(m.data));
    expect(none).toEqual([expect.stringContaining('LOCAL Terraform backend')]);
  });

  test('snapshot of the reference stack (paired with the assertions above)', () => {
    expect(JSON.parse(s.text)).toMatchSnapshot();
  });
});
