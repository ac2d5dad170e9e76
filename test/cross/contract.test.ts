/**
 * The two engines never reference each other: each synthesizes alone from the
 * plan. These tests synthesize BOTH halves from one plan and prove they agree
 * on every value that crosses between them (bucket, role ARN, trust subject,
 * OIDC issuer and audience, schedule order). A plan other than the reference
 * one is used so that nothing can pass by being hard-coded.
 */
import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { Testing } from 'cdktf';
import { counterpartySchedule, naming, type ProtectionPlan } from '../../lib/core';
import { ContactCentrePrimaryStack } from '../../stacks/primary-stack';
import { AzureCounterpartyStack } from '../../stacks/azure-counterparty-stack';
import { GcpCounterpartyStack } from '../../stacks/gcp-counterparty-stack';
import { referencePlan } from '../../stacks/reference-plan';
import { decodeJwtClaims, federationMismatches, trustedFederationFromEnv } from '../../lib/runtime/federation';
import { sampleClaims, sampleToken } from './entra-token';

const plan: ProtectionPlan = {
  ...referencePlan,
  system: 'globex-dr',
  primary: { account: '444455556666', region: 'eu-west-1' },
  datasets: referencePlan.datasets.map((d) =>
    d.kind === 's3Bucket' ? { ...d, bucketName: 'globex-recordings' } : d.kind === 'postgres' ? { ...d, credentialsSecretArn: 'arn:aws:secretsmanager:eu-west-1:444455556666:secret:globex/crm-AbCdEf' } : d),
  schedule: { cron: '30 1 * * *', timeZone: 'Europe/Dublin', exportWindowHours: 4 },
  counterparties: {
    gcp: { projectId: 'globex-dr-prod', region: 'europe-west4', storageTransferSubjectId: '98765432109876543210', network: 'projects/globex-dr-prod/global/networks/globex-dr-vpc' },
    azure: {
      subscriptionId: '12345678-1234-1234-1234-123456789abc',
      tenantId: 'abcdefab-cdef-abcd-efab-cdefabcdefab',
      location: 'westeurope',
      copyIdentityPrincipalId: '0f0f0f0f-1e1e-2d2d-3c3c-4b4b4b4b4b4b',
      mirrorIdentityPrincipalId: '5a5a5a5a-6b6b-4c7c-8d8d-9e9e9e9e9e9e',
      tokenAudience: 'api://globex-counterparty',
    },
  },
};

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;

const aws = (() => {
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] }, builtinCloudFormationValidation: false });
  return Template.fromStack(new ContactCentrePrimaryStack(app, 'Primary', { plan })).toJSON();
})();
const gcp: Json = JSON.parse(Testing.synth(new GcpCounterpartyStack(Testing.app(), 'counterparty-gcp', { plan })));
const azure: Json = JSON.parse(Testing.synth(new AzureCounterpartyStack(Testing.app(), 'counterparty-azure', { plan })));

function awsResources(type: string): Json[] {
  return Object.values(aws.Resources as Record<string, Json>).filter((r) => r.Type === type);
}

function roleNamed(name: string): Json {
  const roles = awsResources('AWS::IAM::Role').filter((r) => r.Properties.RoleName === name);
  expect(roles).toHaveLength(1);
  return roles[0].Properties;
}

/** The ARN IAM will give a role declared with this RoleName and Path in the primary account. */
function arnOf(role: Json): string {
  return `arn:aws:iam::${plan.primary.account}:role${role.Path ?? '/'}${role.RoleName}`;
}

const exportBucketName = (() => {
  const names = awsResources('AWS::S3::Bucket').map((b) => b.Properties.BucketName).filter((n) => n === naming.exportBucketName(plan));
  expect(names).toHaveLength(1);
  return names[0] as string;
})();

describe('AWS ⇄ GCP agree through the naming contract', () => {
  const job = Object.values(gcp.resource.google_storage_transfer_job as Record<string, Json>);
  const role = roleNamed(naming.gcpReaderRoleName(plan));

  test('the transfer job reads the bucket the primary exports to, through the role the primary creates', () => {
    expect(job).toHaveLength(1);
    const source = job[0].transfer_spec.aws_s3_data_source;
    expect(source.bucket_name).toBe(exportBucketName);
    expect(source.role_arn).toBe(arnOf(role));
    expect(source.aws_access_key).toBeUndefined();
  });

  test('the role trusts exactly the transfer service subject the plan carries, which the GCP stack outputs', () => {
    const statements = role.AssumeRolePolicyDocument.Statement;
    expect(statements).toHaveLength(1);
    expect(statements[0]).toMatchObject({
      Action: 'sts:AssumeRoleWithWebIdentity',
      Effect: 'Allow',
      Principal: { Federated: naming.GCP_OIDC_ISSUER },
      Condition: { StringEquals: { 'accounts.google.com:sub': plan.counterparties.gcp!.storageTransferSubjectId } },
    });
    // The GCP side publishes the subject of its own project's transfer service account under the
    // stable output name that README tells the operator to copy into the plan.
    const output = gcp.output.storage_transfer_subject_id.value as string;
    const [, dataName] = /^\$\{data\.google_storage_transfer_project_service_account\.([\w-]+)\.subject_id\}$/.exec(output) ?? [];
    expect(dataName).toBeDefined();
    expect(gcp.data.google_storage_transfer_project_service_account[dataName].project).toBe(plan.counterparties.gcp!.projectId);
  });

  test('the pull starts after the primary export window', () => {
    const start = job[0].schedule.start_time_of_day;
    const copy = counterpartySchedule(plan).copyUtc;
    expect({ hours: start.hours, minutes: start.minutes }).toEqual({ hours: copy.hour, minutes: copy.minute });
    // 01:30 Dublin is 01:30 UTC in winter and 00:30 UTC in summer; + 4 h window = 05:30 UTC at the latest.
    expect(copy).toEqual({ hour: 5, minute: 30 });
  });
});

describe('AWS ⇄ Azure agree through the naming contract', () => {
  const role = roleNamed(naming.azureReaderRoleName(plan));
  const jobs = Object.values(azure.resource.azurerm_container_app_job as Record<string, Json>);
  const copyJobs = jobs.filter((j) => j.template.container[0].args[0] === 'copy');

  test('every copy shard assumes the reader role the primary creates, from the primary export bucket, with no AWS keys', () => {
    expect(copyJobs.length).toBeGreaterThanOrEqual(1);
    for (const job of copyJobs) {
      const e = Object.fromEntries(job.template.container[0].env.map((x: Json) => [x.name, x.value]));
      expect(e.AWS_ROLE_ARN).toBe(arnOf(role));
      expect(e.CP_SOURCE_BUCKET).toBe(exportBucketName);
      expect(e.AWS_REGION).toBe(plan.primary.region);
    }
    expect(JSON.stringify(azure)).not.toMatch(/AWS_ACCESS_KEY_ID|AWS_SECRET_ACCESS_KEY|aws_access_key/);
  });

  test('the copy starts after the primary export window; the manifests follow the data', () => {
    const phase = (j: Json) => j.template.container[0].env.find((e: Json) => e.name === 'CP_COPY_PHASE')?.value ?? 'all';
    const toMinutes = (cron: string) => { const [m, h] = cron.split(' ').map(Number); return h * 60 + m; };
    const data = copyJobs.filter((j) => phase(j) !== 'manifests');
    expect(data.length).toBeGreaterThanOrEqual(1);
    for (const job of data) expect(job.schedule_trigger_config.cron_expression).toBe(counterpartySchedule(plan).copyCronUtc);
    const copyAt = toMinutes(counterpartySchedule(plan).copyCronUtc);
    for (const job of copyJobs.filter((j) => phase(j) === 'manifests')) {
      const after = (toMinutes(job.schedule_trigger_config.cron_expression) - copyAt + 1440) % 1440;
      expect(after).toBeGreaterThan(0);
      expect(after).toBeLessThan(60);
    }
  });
});

/**
 * Right, not just consistent: instead of checking that both stacks derive the same strings, build the
 * token Entra would issue from the Azure JSON ALONE (tenant from the azurerm provider, audience from the
 * app registration's identifier URI, subject = the object ID of the identity assigned to its app role),
 * laid out as Microsoft documents a v1.0 app-only access token (test/cross/fixtures), and check that the
 * AWS template, evaluated the way IAM evaluates OIDC trust, accepts it, and rejects the v2.0 token a
 * managed identity gets for api://AzureADTokenExchange. Sources: docs/azure.md "Federation that checks itself".
 */
describe('AWS trusts the token Entra issues to the Azure copy identity (documented claim layout)', () => {
  const role = roleNamed(naming.azureReaderRoleName(plan));
  const app = Object.values(azure.resource.azuread_application as Record<string, Json>)[0];
  const tenantId = (Object.values(azure.provider.azurerm as Json[])[0] as Json).tenant_id as string;
  const copyPrincipalRef = (() => {
    const [job] = Object.values(azure.resource.azurerm_container_app_job as Record<string, Json>).filter((j) => j.template.container[0].args[0] === 'copy');
    return String(job.identity.identity_ids[0]).replace(/\.id\}$/, '.principal_id}');
  })();
  // The object ID the operator copies from the Azure output into the plan (the only value unknown at synth).
  const identityObjectId = plan.counterparties.azure!.copyIdentityPrincipalId!;
  const values = {
    tenantId,
    applicationIdUri: app.identifier_uris[0],
    identityObjectId,
    identityClientId: '7e6d5c4b-3a29-4817-9605-f4e3d2c1b0a9',
    appRoleValue: app.app_role[0].value,
    subscriptionId: plan.counterparties.azure!.subscriptionId,
    resourceGroup: naming.azureResourceGroupName(plan),
    identityName: naming.azureJobsIdentityName(plan),
    tokenExchangeAppClientId: 'fb60f99c-7a34-4190-8149-302f77469936',
  };

  /** IAM's evaluation of an OIDC web-identity trust for this token: provider by issuer URL, aud in the client IDs, StringEquals `<issuer host/path>:<claim>` keys. */
  function awsAccepts(claims: Record<string, unknown>, trustRole: Json = role): string[] {
    const problems: string[] = [];
    const providers = awsResources('AWS::IAM::OIDCProvider');
    const iss = String(claims.iss);
    const provider = providers.find((p) => p.Properties.Url === iss);
    if (!provider) return [`no IAM OIDC provider for iss ${iss} (have ${providers.map((p) => p.Properties.Url).join(', ')})`];
    if (!provider.Properties.ClientIdList.includes(claims.aud)) problems.push(`aud ${String(claims.aud)} is not a client ID of the provider`);
    const [statement] = trustRole.AssumeRolePolicyDocument.Statement;
    if (statement.Action !== 'sts:AssumeRoleWithWebIdentity') problems.push(`action ${statement.Action}`);
    const host = iss.replace(/^https:\/\//, '');
    for (const [key, want] of Object.entries(statement.Condition.StringEquals as Record<string, string>)) {
      const [keyHost, claim] = [key.slice(0, key.lastIndexOf(':')), key.slice(key.lastIndexOf(':') + 1)];
      if (keyHost !== host) problems.push(`condition key ${key} is not for issuer ${host}`);
      else if (claims[claim] !== want) problems.push(`${claim} ${String(claims[claim])} != ${want}`);
    }
    return problems;
  }

  test('the app registration asks for v1.0 tokens (the layout the fixture describes) and owns the audience as its identifier URI', () => {
    expect(app.api.requested_access_token_version).toBe(1);
    expect(app.identifier_uris).toHaveLength(1);
    expect(app.identifier_uris[0]).not.toBe('api://AzureADTokenExchange');
  });

  test('the identity whose object ID becomes `sub` is the copy identity assigned to the app role, and the stack outputs it', () => {
    const assignments = Object.values(azure.resource.azuread_app_role_assignment as Record<string, Json>);
    expect(assignments.map((a) => a.principal_object_id)).toContain(copyPrincipalRef);
    expect(azure.output.copy_identity_principal_id.value).toBe(copyPrincipalRef);
  });

  test('the documented v1 token for the Application ID URI is accepted by the AWS template', () => {
    const claims = sampleClaims('v1AppOnlyTokenForAppIdUri', values);
    expect(claims).toMatchObject({ ver: '1.0', iss: `https://sts.windows.net/${tenantId}/`, sub: identityObjectId, oid: identityObjectId });
    expect(awsAccepts(claims)).toEqual([]);
  });

  test('the token a managed identity gets for api://AzureADTokenExchange (v2.0 issuer, GUID aud) would be refused', () => {
    const problems = awsAccepts(sampleClaims('v2TokenExchangeToken', values));
    expect(problems).toEqual([expect.stringMatching(/^no IAM OIDC provider for iss https:\/\/login\.microsoftonline\.com\/.*\/v2\.0/)]);
  });

  test('a token for another identity (another object ID) would be refused', () => {
    expect(awsAccepts(sampleClaims('v1AppOnlyTokenForAppIdUri', { ...values, identityObjectId: '00000000-1111-4222-8333-444444444444' }))).toEqual([
      expect.stringMatching(/^sub 00000000-1111-4222-8333-444444444444 != /),
    ]);
  });

  test('the copy job\'s self-check expects exactly what the AWS template trusts, and passes on the documented token', () => {
    const copyJob = Object.values(azure.resource.azurerm_container_app_job as Record<string, Json>).find((j) => j.template.container[0].args[0] === 'copy');
    const env: Record<string, string> = Object.fromEntries(copyJob.template.container[0].env.map((e: Json) => [e.name, e.value]));
    const trusted = trustedFederationFromEnv(env);
    const provider = awsResources('AWS::IAM::OIDCProvider')[0].Properties;
    const conditions = role.AssumeRolePolicyDocument.Statement[0].Condition.StringEquals as Record<string, string>;
    const host = String(provider.Url).replace(/^https:\/\//, '');
    expect(trusted).toEqual({ issuer: provider.Url, audience: conditions[`${host}:aud`], subject: conditions[`${host}:sub`] });
    expect(env.CP_AZURE_TOKEN_AUDIENCE).toBe(app.identifier_uris[0]);
    expect(federationMismatches(decodeJwtClaims(sampleToken('v1AppOnlyTokenForAppIdUri', values)), trusted)).toEqual([]);
    expect(federationMismatches(decodeJwtClaims(sampleToken('v2TokenExchangeToken', values)), trusted).map((m) => m.claim)).toEqual(['iss', 'aud']);
  });

  test('the mirror identity: its documented v1 token is accepted by the AWS ECR-pull role only, and its job expects exactly that trust', () => {
    const mirrorRole = roleNamed(naming.azureMirrorRoleName(plan));
    const mirrorObjectId = plan.counterparties.azure!.mirrorIdentityPrincipalId!;
    const claims = sampleClaims('v1AppOnlyTokenForAppIdUri', { ...values, identityObjectId: mirrorObjectId, identityName: 'id-globex-dr-mirror' });
    expect(awsAccepts(claims, mirrorRole)).toEqual([]);
    // Each identity gets only its own role: the mirror token is refused by the reader role and vice versa.
    expect(awsAccepts(claims)).toEqual([expect.stringMatching(/^sub /)]);
    expect(awsAccepts(sampleClaims('v1AppOnlyTokenForAppIdUri', values), mirrorRole)).toEqual([expect.stringMatching(/^sub /)]);
    const mirrorJob = Object.values(azure.resource.azurerm_container_app_job as Record<string, Json>).find((j) => j.template.container[0].args[0] === 'mirror');
    const env: Record<string, string> = Object.fromEntries(mirrorJob.template.container[0].env.map((e: Json) => [e.name, e.value]));
    expect(env.AWS_ROLE_ARN).toBe(arnOf(mirrorRole));
    expect(federationMismatches(claims, trustedFederationFromEnv(env))).toEqual([]);
    // The mirror identity is assigned to the app role too (it would get no token otherwise).
    const mirrorPrincipalRef = String(mirrorJob.identity.identity_ids[0]).replace(/\.id\}$/, '.principal_id}');
    expect(Object.values(azure.resource.azuread_app_role_assignment as Record<string, Json>).map((a) => a.principal_object_id)).toContain(mirrorPrincipalRef);
  });
});

