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
import { counterpartySchedule, naming, resolvePlan, type ProtectionPlan } from '../../lib/core';
import { ContactCentrePrimaryStack } from '../../stacks/primary-stack';
import { AzureCounterpartyStack } from '../../stacks/azure-counterparty-stack';
import { GcpCounterpartyStack } from '../../stacks/gcp-counterparty-stack';
import { referencePlan } from '../../stacks/reference-plan';

const plan: ProtectionPlan = {
  ...referencePlan,
  system: 'globex-dr',
  primary: { account: '444455556666', region: 'eu-west-1' },
  datasets: referencePlan.datasets.map((d) =>
    d.kind === 's3Bucket' ? { ...d, bucketName: 'globex-recordings' } : d.kind === 'postgres' ? { ...d, credentialsSecretArn: 'arn:aws:secretsmanager:eu-west-1:444455556666:secret:globex/crm-AbCdEf' } : d),
  schedule: { cron: '30 1 * * *', timeZone: 'Europe/Dublin', exportWindowHours: 4 },
  counterparties: {
    gcp: { projectId: 'globex-dr-prod', region: 'europe-west4', storageTransferSubjectId: '98765432109876543210' },
    azure: {
      subscriptionId: '12345678-1234-1234-1234-123456789abc',
      tenantId: 'abcdefab-cdef-abcd-efab-cdefabcdefab',
      location: 'westeurope',
      copyIdentityPrincipalId: '0f0f0f0f-1e1e-2d2d-3c3c-4b4b4b4b4b4b',
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
  const a = resolvePlan(plan).counterparties.azure!;
  const role = roleNamed(naming.azureReaderRoleName(plan));
  const jobs = Object.values(azure.resource.azurerm_container_app_job as Record<string, Json>);
  const copyJob = jobs.find((j) => JSON.stringify(j.template).includes('"copy"'));
  const env = Object.fromEntries((copyJob?.template.container[0].env ?? []).map((e: Json) => [e.name, e.value ?? e.secret_name]));

  test('the OIDC provider is the tenant issuer with the plan audience', () => {
    const providers = awsResources('AWS::IAM::OIDCProvider');
    expect(providers).toHaveLength(1);
    expect(providers[0].Properties.Url).toBe(naming.azureOidcIssuer(a.tenantId));
    expect(providers[0].Properties.ClientIdList).toEqual([a.tokenAudience]);
    expect(azure.output.azure_oidc_issuer.value).toBe(naming.azureOidcIssuer(a.tenantId));
    expect(azure.output.azure_token_audience.value).toBe(a.tokenAudience);
  });

  test('the role trusts the copy identity principal for that audience only', () => {
    const host = naming.azureOidcIssuerHost(a.tenantId);
    const statements = role.AssumeRolePolicyDocument.Statement;
    expect(statements).toHaveLength(1);
    expect(statements[0].Action).toBe('sts:AssumeRoleWithWebIdentity');
    expect(statements[0].Condition).toEqual({ StringEquals: { [`${host}:aud`]: a.tokenAudience, [`${host}:sub`]: a.copyIdentityPrincipalId } });
  });

  test('the copy job assumes that role, for that audience, from the primary export bucket, with no AWS keys', () => {
    expect(copyJob).toBeDefined();
    expect(env.AWS_ROLE_ARN).toBe(arnOf(role));
    expect(env.CP_AZURE_TOKEN_AUDIENCE).toBe(a.tokenAudience);
    expect(env.CP_SOURCE_BUCKET).toBe(exportBucketName);
    expect(env.AWS_REGION).toBe(plan.primary.region);
    expect(JSON.stringify(azure)).not.toMatch(/AWS_ACCESS_KEY_ID|AWS_SECRET_ACCESS_KEY|aws_access_key/);
    // The principal the AWS role trusts is the one the Azure stack outputs: the copy job's own identity.
    const identityRef = copyJob!.identity.identity_ids[0] as string;
    const principalOut = azure.output.copy_identity_principal_id.value as string;
    expect(principalOut).toBe(identityRef.replace(/\.id\}$/, '.principal_id}'));
  });

  test('the copy starts after the primary export window', () => {
    expect(copyJob.schedule_trigger_config.cron_expression).toBe(counterpartySchedule(plan).copyCronUtc);
  });
});
