/**
 * What the Azure counterparty needs to RUN the software (issue 12) and to alert on every failure
 * (issue 11), asserted on the synthesized Terraform JSON: the Entra app registration AWS federates
 * through, the Key Vault private endpoint, the standby's engine version and extensions, the mirror and
 * prune jobs, sharded copies, bootstrap, the remote backend and the active-mode ingress restriction.
 */
import { Testing, TerraformStack } from 'cdktf';
import { AwsFederationApplication, ImageMirrorJob, NightlyCopyJob, StandbyApplication, StandbyDatabase } from '../../lib/azure';
import { counterpartySchedule, naming, resolvePlan, type PostgresDataset, type ProtectionPlan } from '../../lib/core';
import { AzureCounterpartyStack, azureStateBackendFromEnv } from '../../stacks/azure-counterparty-stack';
import { only, ref, referencePlan, synthPlan, withAzure, type Synth } from './helpers';

const plan = resolvePlan(referencePlan);
const az = plan.counterparties.azure!;
const jobs = (s: Synth) => Object.values(s.json.resource.azurerm_container_app_job ?? {});
const jobNamed = (s: Synth, role: string) => jobs(s).find((j) => j.name === naming.azureResourceName(plan, 'caj', role))!;
// eslint-disable-next-line @typescript-eslint/no-explicit-any
const envOf = (job: Record<string, any>): Record<string, string> =>
  Object.fromEntries((job.template.container[0].env as { name: string; value?: string; secret_name?: string }[]).map((e) => [e.name, e.value ?? `secret:${e.secret_name}`]));
const dependsOn = (r: { depends_on?: string[] }) => r.depends_on ?? [];
const address = (s: Synth, type: string, path: string) => ref(s, type, path, 'x').replace(/^\$\{(.*)\.x\}$/, '$1');

function withPostgres(overrides: Partial<PostgresDataset>): ProtectionPlan {
  return { ...referencePlan, datasets: referencePlan.datasets.map((d) => (d.kind === 'postgres' ? { ...d, ...overrides } : d)) };
}

describe('federation: the Entra app registration AWS trusts', () => {
  let s: Synth;
  beforeAll(() => { s = synthPlan(); });

  test('Application ID URI = the audience, v1 tokens, an application app role, kept on upgrades', () => {
    const app = only(s, 'azuread_application');
    expect(app.identifier_uris).toEqual([naming.azureFederationAudience(plan)]);
    expect(app.identifier_uris).toEqual(['api://acme-cc-aws-federation']);
    expect(app.api).toEqual({ requested_access_token_version: 1 });
    expect(app.sign_in_audience).toBe('AzureADMyOrg');
    expect(app.app_role).toEqual([expect.objectContaining({ value: 'AssumeRoleWithWebIdentity', allowed_member_types: ['Application'], enabled: true, id: expect.stringMatching(/^[0-9a-f-]{36}$/) })]);
    expect(app.lifecycle).toEqual({ prevent_destroy: true });
  });

  test('only assigned identities get tokens: the copy and mirror identities, by principal (object) ID', () => {
    const sp = only(s, 'azuread_service_principal');
    expect(sp).toMatchObject({ client_id: ref(s, 'azuread_application', 'Federation/Application', 'client_id'), app_role_assignment_required: true });
    const assignments = Object.values(s.json.resource.azuread_app_role_assignment);
    const roleId = only(s, 'azuread_application').app_role[0].id;
    expect(assignments.map((a) => a.principal_object_id).sort()).toEqual([
      ref(s, 'azurerm_user_assigned_identity', 'CopyIdentity/Identity', 'principal_id'),
      ref(s, 'azurerm_user_assigned_identity', 'MirrorIdentity/Identity', 'principal_id'),
    ].sort());
    for (const a of assignments) expect(a).toMatchObject({ app_role_id: roleId, resource_object_id: ref(s, 'azuread_service_principal', 'Federation/ServicePrincipal', 'object_id') });
  });

  test('the copy jobs start only after the copy identity is assigned (the first run gets its token)', () => {
    for (const job of jobs(s).filter((j) => j.template.container[0].args[0] === 'copy')) {
      expect(dependsOn(job)).toContain(address(s, 'azuread_app_role_assignment', 'Federation/Assign-copy'));
    }
    expect(dependsOn(jobNamed(s, 'mirror'))).toContain(address(s, 'azuread_app_role_assignment', 'Federation/Assign-mirror'));
  });

  test('an existing app registration from the plan: no new app, the same assignments on its service principal', () => {
    const t = synthPlan(withAzure({ federationApplicationClientId: '0f1e2d3c-4b5a-4968-8776-a5b4c3d2e1f0' }));
    expect(t.json.resource.azuread_application).toBeUndefined();
    expect(Object.values(t.json.data!.azuread_service_principal)).toEqual([expect.objectContaining({ client_id: '0f1e2d3c-4b5a-4968-8776-a5b4c3d2e1f0' })]);
    expect(Object.values(t.json.resource.azuread_app_role_assignment)).toHaveLength(2);
    expect(t.json.output.federation_application_client_id.value).toBe('0f1e2d3c-4b5a-4968-8776-a5b4c3d2e1f0');
  });

  test('the reserved token-exchange audience is refused, naming the fix', () => {
    const stack = new TerraformStack(Testing.app(), 'stack');
    expect(() => new AwsFederationApplication(stack, 'Fed', { audience: 'api://AzureADTokenExchange', displayName: 'x', assignees: { copy: { principalId: 'p' } } }))
      .toThrow(/^stack\/Fed: audience = "api:\/\/AzureADTokenExchange": is Microsoft's reserved token-exchange audience.*Fix: use naming\.azureFederationAudience/);
    expect(() => resolvePlan(withAzure({ tokenAudience: 'api://AzureADTokenExchange' }))).toThrow(/counterparties\.azure\.tokenAudience/);
  });

  test('the azuread provider is configured for the plan\'s tenant', () => {
    expect(Object.values(s.json.provider.azuread)).toEqual([expect.objectContaining({ tenant_id: az.tenantId })]);
  });
});

describe('secrets Container Apps can reach: Key Vault private endpoint', () => {
  let s: Synth;
  beforeAll(() => { s = synthPlan(); });

  test('a private endpoint for the vault in the endpoints subnet, with the privatelink.vaultcore.azure.net zone linked to the VNet', () => {
    const pe = only(s, 'azurerm_private_endpoint');
    expect(pe.subnet_id).toBe(ref(s, 'azurerm_subnet', 'Network/EndpointsSubnet', 'id'));
    expect(pe.private_service_connection).toEqual(expect.objectContaining({ private_connection_resource_id: ref(s, 'azurerm_key_vault', 'KeyVault/Vault', 'id'), subresource_names: ['vault'], is_manual_connection: false }));
    const zone = Object.values(s.json.resource.azurerm_private_dns_zone).find((z) => z.name === 'privatelink.vaultcore.azure.net');
    expect(zone).toBeDefined();
    expect(pe.private_dns_zone_group.private_dns_zone_ids).toEqual([ref(s, 'azurerm_private_dns_zone', 'KeyVault/PrivateDnsZone', 'id')]);
    const link = Object.values(s.json.resource.azurerm_private_dns_zone_virtual_network_link).find((l) => l.private_dns_zone_name === ref(s, 'azurerm_private_dns_zone', 'KeyVault/PrivateDnsZone', 'name'));
    expect(link).toMatchObject({ virtual_network_id: ref(s, 'azurerm_virtual_network', 'Network/Network', 'id'), registration_enabled: false });
  });

  test('every Container App or job that reads a secret depends on the secret, its grant and the private path', () => {
    const pe = address(s, 'azurerm_private_endpoint', 'KeyVault/PrivateEndpoint');
    const link = address(s, 'azurerm_private_dns_zone_virtual_network_link', 'KeyVault/PrivateDnsLink');
    const readers = [...jobs(s), ...Object.values(s.json.resource.azurerm_container_app)].filter((r) => (r.secret ?? []).length > 0);
    expect(readers.length).toBeGreaterThanOrEqual(2);
    for (const r of readers) {
      expect(dependsOn(r)).toEqual(expect.arrayContaining([pe, link]));
      for (const secret of r.secret as { key_vault_secret_id: string }[]) {
        const secretAddress = secret.key_vault_secret_id.replace(/^\$\{(.*)\.versionless_id\}$/, '$1');
        expect(dependsOn(r)).toContain(secretAddress);
        const grants = Object.entries(s.json.resource.azurerm_role_assignment)
          .filter(([, g]) => g.scope === `\${${secretAddress}.resource_versionless_id}` && g.principal_id === String(r.identity.identity_ids[0]).replace(/\.id\}$/, '.principal_id}'));
        expect(grants).toHaveLength(1);
        expect(dependsOn(r)).toContain(`azurerm_role_assignment.${grants[0][0]}`);
      }
    }
  });
});

describe('standby access and the database', () => {
  test('the application logs in as its own login (cp_app), never the restore/admin login', () => {
    const s = synthPlan();
    const app = only(s, 'azurerm_container_app');
    const env = envOf(app);
    expect(env.PGUSER).toBe('cp_app');
    expect(env.PGUSER).not.toBe(only(s, 'azurerm_postgresql_flexible_server').administrator_login);
    expect(app.secret).toEqual([expect.objectContaining({ key_vault_secret_id: ref(s, 'azurerm_key_vault_secret', 'Database/AppPasswordSecret', 'versionless_id') })]);
  });

  test('engine version and azure.extensions come from the plan\'s postgres datasets', () => {
    const s = synthPlan(withPostgres({ engineVersion: 17, extensions: ['pgcrypto', 'citext'] }));
    expect(only(s, 'azurerm_postgresql_flexible_server').version).toBe('17');
    expect(only(s, 'azurerm_postgresql_flexible_server_configuration')).toMatchObject({
      name: 'azure.extensions', value: 'citext,pgcrypto', server_id: ref(s, 'azurerm_postgresql_flexible_server', 'Database/Server', 'id'),
    });
    // The reference plan's CRM uses pgcrypto (the drill restores it): its extension list reaches the server.
    const crm = referencePlan.datasets.find((d): d is PostgresDataset => d.kind === 'postgres')!;
    expect(crm.extensions).toEqual(['pgcrypto']);
    expect(only(synthPlan(), 'azurerm_postgresql_flexible_server_configuration')).toMatchObject({ name: 'azure.extensions', value: 'pgcrypto' });
    // Defaults: version 16, no extension parameter.
    const d = synthPlan(withPostgres({ engineVersion: undefined, extensions: undefined }));
    expect(only(d, 'azurerm_postgresql_flexible_server').version).toBe('16');
    expect(d.json.resource.azurerm_postgresql_flexible_server_configuration).toBeUndefined();
  });

  test('a version Flexible Server does not run, or an extension it cannot allow-list, is refused', () => {
    const stack = () => new TerraformStack(Testing.app(), 'stack');
    const base = { name: 'psql-x', resourceGroupName: 'rg', location: 'westeurope', keyVaultId: '/kv', encryption: { keyVaultKeyId: 'k', identityId: '/id' } };
    expect(() => new StandbyDatabase(stack(), 'Db', { ...base, version: '12' })).toThrow(/^stack\/Db: version = "12": is not a PostgreSQL major version a Flexible Server standby runs \(13, 14, 15, 16, 17\)/);
    expect(() => new StandbyDatabase(stack(), 'Db', { ...base, extensions: ['pgcrypto', 'my_own_ext'] })).toThrow(/^stack\/Db: extensions = "my_own_ext": is not an extension .* can allow-list/);
    expect(() => new StandbyDatabase(stack(), 'Db', { ...base, applicationLogin: 'cpadmin' })).toThrow(/applicationLogin = "cpadmin"/);
  });
});

describe('mirror, prune, sharded copy', () => {
  let s: Synth;
  beforeAll(() => { s = synthPlan(withAzure({ mirrorIdentityPrincipalId: '9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d' })); });

  test('the mirror job runs `mirror` nightly as the mirror identity, ECR → this ACR, with the contract env', () => {
    const job = jobNamed(s, 'mirror');
    const env = envOf(job);
    expect(job.template.container[0].args).toEqual(['mirror']);
    expect(job.identity.identity_ids).toEqual([ref(s, 'azurerm_user_assigned_identity', 'MirrorIdentity/Identity', 'id')]);
    expect(job.schedule_trigger_config.cron_expression).toMatch(/^\d+ \d+ \* \* \*$/);
    expect(env).toMatchObject({
      CP_MIRROR_SOURCE: `${plan.primary.account}.dkr.ecr.${plan.primary.region}.amazonaws.com`,
      CP_MIRROR_DESTINATION: ref(s, 'azurerm_container_registry', 'Registry/Registry', 'login_server'),
      CP_IMAGES: `${plan.images.application},${plan.images.jobs}`,
      CP_KEEP_RELEASES: String(plan.images.keepReleases),
      CP_MIRROR_AUTH: 'azure',
      AWS_ROLE_ARN: naming.azureMirrorRoleArn(plan),
      CP_TRUSTED_AUDIENCE: naming.azureFederationAudience(plan),
      CP_TRUSTED_SUBJECT: '9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d',
    });
  });

  test('the prune job runs `prune` as its own identity', () => {
    const job = jobNamed(s, 'prune');
    expect(job.template.container[0].args).toEqual(['prune']);
    expect(job.identity.identity_ids).toEqual([ref(s, 'azurerm_user_assigned_identity', 'PruneIdentity/Identity', 'id')]);
  });

  test('the copy runs as N data jobs in parallel, each on its own shard, then one manifests job before the verifier', () => {
    const copies = jobs(s).filter((j) => j.template.container[0].args[0] === 'copy');
    const data = copies.filter((j) => envOf(j).CP_COPY_PHASE === 'data');
    expect(data).toHaveLength(4);
    expect(data.map((j) => envOf(j).CP_SHARD).sort()).toEqual(['0/4', '1/4', '2/4', '3/4']);
    expect(new Set(data.map((j) => j.schedule_trigger_config.cron_expression))).toEqual(new Set([counterpartySchedule(plan).copyCronUtc]));
    const manifests = copies.filter((j) => envOf(j).CP_COPY_PHASE === 'manifests');
    expect(manifests).toHaveLength(1);
    expect(envOf(manifests[0]).CP_SHARD).toBeUndefined();
    // 10 minutes before the verifier (verify = copy + 60 min).
    const v = counterpartySchedule(plan).verifyUtc;
    const t = (v.hour * 60 + v.minute - 10 + 1440) % 1440;
    expect(manifests[0].schedule_trigger_config.cron_expression).toBe(`${t % 60} ${Math.floor(t / 60)} * * *`);
    expect(copies).toHaveLength(5);
  });

  test('one copy job when copyShards is 1: no shard variables', () => {
    const t = new AzureCounterpartyStack(Testing.app(), 'counterparty-azure', { plan: referencePlan, counterparty: { copyShards: 1 } });
    const json = JSON.parse(Testing.synth(t));
    const copies = Object.values(json.resource.azurerm_container_app_job as Record<string, { template: { container: { args: string[]; env: { name: string }[] }[] } }>).filter((j) => j.template.container[0].args[0] === 'copy');
    expect(copies).toHaveLength(1);
    expect(copies[0].template.container[0].env.map((e) => e.name)).not.toContain('CP_SHARD');
    expect(copies[0].template.container[0].env.map((e) => e.name)).not.toContain('CP_COPY_PHASE');
  });
});

describe('alerts: the five conditions and the image-presence alert, keyed on the log contract', () => {
  let s: Synth;
  beforeAll(() => { s = synthPlan(); });
  const byName = (t: Synth) => Object.fromEntries(Object.values(t.json.resource.azurerm_monitor_scheduled_query_rules_alert_v2).map((r) => [String(r.name).replace(`alert-${plan.system}-`, ''), r]));

  test('data age, copy failure, verify failure, restore failure, failed job executions, nothing reported, image missing', () => {
    const rules = byName(s);
    expect(Object.keys(rules).sort()).toEqual(['copy-failure', 'copy-stale', 'data-age', 'image-missing', 'job-failure', 'job-missed-run', 'restore-failure', 'restore-stale', 'verify-failure', 'verify-stale']);
    expect(rules['data-age'].criteria[0].query).toContain('tobool(line.stale) == true');
    expect(rules['copy-failure'].criteria[0].query).toContain('in ("counterparty.copy") and tostring(line.result) == "failure"');
    expect(rules['verify-failure'].criteria[0].query).toContain('in ("counterparty.verify") and tostring(line.result) == "failure"');
    expect(rules['restore-failure'].criteria[0].query).toContain('in ("counterparty.restore") and tostring(line.result) == "failure"');
    // A job killed before it could print still alerts: no success line in a day.
    expect(rules['job-missed-run'].criteria[0].query).toContain('datatable(event: string) ["counterparty.copy", "counterparty.verify", "counterparty.restore", "counterparty.mirror", "counterparty.prune"]');
    expect(rules['job-missed-run'].criteria[0].query).toContain('ago(25h)');
    expect(rules['image-missing'].criteria[0].query).toContain('toint(line.imagesMissing) > 0');
    for (const r of Object.values(rules)) expect(r.criteria[0].threshold).toBe(r.criteria[0].operator === 'LessThan' ? 1 : 0);
  });

  test('while serving (active), no restore runs, so none is expected', () => {
    const t = synthPlan(withAzure({ mode: 'active', applicationAllowedIpRanges: ['203.0.113.0/24'] }));
    const rules = byName(t);
    expect(rules['restore-stale']).toBeUndefined();
    expect(rules['job-missed-run'].criteria[0].query).not.toContain('"counterparty.restore"');
  });
});

describe('bootstrap, state and exposure', () => {
  test('bootstrap: an empty registry deploys: no Container Apps job or app, everything else, and a warning', () => {
    const t = synthPlan(withAzure({ bootstrap: true }));
    expect(t.json.resource.azurerm_container_app_job).toBeUndefined();
    expect(t.json.resource.azurerm_container_app).toBeUndefined();
    for (const type of ['azurerm_container_registry', 'azurerm_storage_account', 'azurerm_postgresql_flexible_server', 'azuread_application', 'azurerm_private_endpoint']) expect(t.json.resource[type]).toBeDefined();
    expect(t.json.output.standby_app_fqdn).toBeUndefined();
    const warnings = t.stack.node.findAll().flatMap((c) => c.node.metadata).filter((m) => m.type === '@cdktf/warn').map((m) => String(m.data));
    expect(warnings).toEqual(expect.arrayContaining([expect.stringContaining('bootstrap is true')]));
  });

  test('a remote azurerm backend with Entra ID auth replaces the local one; no backend means local plus a warning', () => {
    const backend = { resourceGroupName: 'rg-tfstate', storageAccountName: 'acmetfstate', containerName: 'tfstate', key: 'counterparty-azure.tfstate', useAzureadAuth: true };
    const remote = JSON.parse(Testing.synth(new AzureCounterpartyStack(Testing.app(), 'counterparty-azure', { plan: referencePlan, backend })));
    expect(remote.terraform.backend).toEqual({ azurerm: { resource_group_name: 'rg-tfstate', storage_account_name: 'acmetfstate', container_name: 'tfstate', key: 'counterparty-azure.tfstate', use_azuread_auth: true } });
    const local = synthPlan();
    expect(Object.keys(local.json.terraform.backend)).toEqual(['local']);
  });

  test('a backend reached with an account key or without Entra ID is refused', () => {
    const base = { resourceGroupName: 'rg', storageAccountName: 'sa', containerName: 'c', key: 'k' };
    expect(() => new AzureCounterpartyStack(Testing.app(), 'a', { plan: referencePlan, backend: base })).toThrow(/^a: backend\.useAzureadAuth = undefined: .*Fix: set useAzureadAuth: true/);
    expect(() => new AzureCounterpartyStack(Testing.app(), 'a', { plan: referencePlan, backend: { ...base, useAzureadAuth: true, accessKey: 'k' } })).toThrow(/^a: backend\.accessKey = \(set\)/);
  });

  test('active mode restricts ingress by default: no allow-list and no opt-in is refused; the opt-in serves everyone', () => {
    expect(() => synthPlan(withAzure({ mode: 'active' }))).toThrow(/counterparties\.azure\.applicationAllowedIpRanges = \(not set\): is empty while mode is "active"/);
    const open = synthPlan(withAzure({ mode: 'active', applicationPublicIngress: true }));
    expect(only(open, 'azurerm_container_app').ingress.external_enabled).toBe(true);
    expect(only(open, 'azurerm_container_app').ingress.ip_security_restriction).toBeUndefined();
    const stack = new TerraformStack(Testing.app(), 'stack');
    expect(() => new StandbyApplication(stack, 'App', { name: 'ca-app', resourceGroupName: 'rg', environmentId: '/e', identityId: '/i', registryServer: 'r', image: 'r/i:1', mode: 'active', allowedIpRanges: ['not-an-ip'] }))
      .toThrow(/^stack\/App: allowedIpRanges\[0\] = "not-an-ip"/);
  });
});

describe('state backend from the environment (for apps)', () => {
  test('CP_AZURE_STATE_* give an azurerm backend with Entra ID auth; none gives undefined', () => {
    expect(azureStateBackendFromEnv({})).toBeUndefined();
    expect(azureStateBackendFromEnv({ CP_AZURE_STATE_STORAGE_ACCOUNT: 'acmetfstate', CP_AZURE_STATE_RESOURCE_GROUP: 'rg-tf', CP_AZURE_STATE_CONTAINER: 'tfstate' }))
      .toEqual({ storageAccountName: 'acmetfstate', resourceGroupName: 'rg-tf', containerName: 'tfstate', key: 'counterparty-azure.tfstate', useAzureadAuth: true });
    expect(() => new AzureCounterpartyStack(Testing.app(), 'a', { plan: referencePlan, backend: azureStateBackendFromEnv({ CP_AZURE_STATE_STORAGE_ACCOUNT: 'acmetfstate' }) }))
      .toThrow(/^a: backend\.resourceGroupName = "": is empty/);
  });
});

describe('the jobs used alone validate their federation props', () => {
  const base = {
    name: 'caj-mirror', resourceGroupName: 'rg', location: 'westeurope', environmentId: '/env', identity: { id: '/id', clientId: 'c' },
    registryServer: 'acmeccimages.azurecr.io', image: 'acmeccimages.azurecr.io/counterparty-jobs:1', cronExpression: '0 5 * * *', store: 'azblob://acmeccvault/exports',
    sourceRegistry: '111122223333.dkr.ecr.eu-central-1.amazonaws.com', images: ['contact-centre-app:2.3.1', 'counterparty-jobs:0.1.0'], sourceRegion: 'eu-central-1',
    roleArn: 'arn:aws:iam::111122223333:role/counterparty/acme-cc-azure-mirror', tokenAudience: 'api://acme-cc-aws-federation',
    trusted: { issuer: 'https://sts.windows.net/55555555-6666-7777-8888-999999999999/', audience: 'api://acme-cc-aws-federation', subject: '9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d' },
  };
  const stack = () => new TerraformStack(Testing.app(), 'stack');

  test('a trusted audience other than the requested one, an issuer without its slash, a non-ECR source are refused', () => {
    expect(() => new ImageMirrorJob(stack(), 'Mirror', base)).not.toThrow();
    expect(() => new ImageMirrorJob(stack(), 'Mirror', { ...base, trusted: { ...base.trusted, audience: 'api://other' } }))
      .toThrow(/^stack\/Mirror: trusted\.audience = "api:\/\/other": differs from tokenAudience/);
    expect(() => new ImageMirrorJob(stack(), 'Mirror', { ...base, trusted: { ...base.trusted, issuer: 'https://sts.windows.net/55555555-6666-7777-8888-999999999999' } }))
      .toThrow(/^stack\/Mirror: trusted\.issuer = .*is not an issuer URL ending in "\/"/);
    expect(() => new ImageMirrorJob(stack(), 'Mirror', { ...base, sourceRegistry: 'docker.io' })).toThrow(/^stack\/Mirror: sourceRegistry = "docker\.io": is not an ECR registry host/);
  });

  test('a copy shard outside its count is refused', () => {
    const copy = { ...base, name: 'caj-copy', sourceBucket: 'b', roleArn: 'arn:aws:iam::111122223333:role/counterparty/x' };
    expect(() => new NightlyCopyJob(stack(), 'Copy', { ...copy, shard: { index: 4, count: 4 } })).toThrow(/^stack\/Copy: shard = .*is not a shard of the copy/);
  });
});
