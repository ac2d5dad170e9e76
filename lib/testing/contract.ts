/**
 * The cross-engine contract as a test helper: the AWS half (aws-cdk-lib) and
 * the counterparty halves (cdktf) never reference each other; they agree only
 * through the plan and the naming contract. This synthesizes each half from
 * the plan (or takes the stacks you built) and lists every value that crosses
 * between them and does not agree: the export bucket, the reader role's ARN
 * and trust, the Azure OIDC issuer and audience, and the copy schedule.
 */
import { App, Stack } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import { counterpartySchedule, naming, resolvePlan, type ProtectionPlan, type ResolvedPlan } from '../core';
import { PrimarySite } from '../aws/primary-site';

// Synthesized templates are untyped JSON.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;

/** What {@link counterpartyContractProblems} checks. */
export interface CounterpartyContractOptions {
  /** The protection plan both halves are built from. */
  readonly plan: ProtectionPlan;
  /**
   * Your AWS stack holding the `PrimarySite` of this plan.
   * @default - a stack with only `new PrimarySite(stack, 'Primary', { plan })`, in the plan's account and region
   */
  readonly awsStack?: Stack;
  /**
   * Your cdktf stack holding the `GcpCounterparty` of this plan (needs `cdktf` and `@cdktf/provider-google`).
   * @default - a stack with the `google` providers and `GcpCounterparty`, when the plan has a GCP counterparty
   */
  readonly gcpStack?: Construct;
  /**
   * Your cdktf stack holding the `AzureCounterparty` of this plan (needs `cdktf` and `@cdktf/provider-azurerm`).
   * @default - a stack with the `azurerm` provider and `AzureCounterparty`, when the plan has an Azure counterparty
   */
  readonly azureStack?: Construct;
}

/** The synthesized halves. */
export interface SynthesizedHalves {
  /** The CloudFormation template of the AWS stack. */
  readonly aws: Json;
  /** The cdk.tf.json of the GCP stack, when the plan has a GCP counterparty. */
  readonly gcp?: Json;
  /** The cdk.tf.json of the Azure stack, when the plan has an Azure counterparty. */
  readonly azure?: Json;
}

/** Synthesizes both halves of a plan (each engine alone). */
export function synthesizeHalves(opts: CounterpartyContractOptions): SynthesizedHalves {
  const plan = resolvePlan(opts.plan);
  const awsStack = opts.awsStack ?? defaultAwsStack(opts.plan);
  const aws = awsTemplate(awsStack);
  const gcp = plan.counterparties.gcp ? terraformJson(opts.gcpStack ?? defaultGcpStack(opts.plan)) : undefined;
  const azure = plan.counterparties.azure ? terraformJson(opts.azureStack ?? defaultAzureStack(opts.plan)) : undefined;
  return { aws, gcp, azure };
}

/** Every disagreement between the halves, as one sentence each; empty when they agree. */
export function counterpartyContractProblems(opts: CounterpartyContractOptions): string[] {
  const plan = resolvePlan(opts.plan);
  const halves = synthesizeHalves(opts);
  const problems: string[] = [];
  const bucket = exportBucketName(halves.aws, plan, problems);
  if (halves.gcp) checkGcp(halves.aws, halves.gcp, plan, bucket, problems);
  if (halves.azure) checkAzure(halves.aws, halves.azure, plan, bucket, problems);
  return problems;
}

/** Throws an error listing every disagreement between the halves (for a test: `assertCounterpartyContract({ plan })`). */
export function assertCounterpartyContract(opts: CounterpartyContractOptions): void {
  const problems = counterpartyContractProblems(opts);
  if (problems.length > 0) {
    throw new Error(`The AWS and counterparty halves of plan "${opts.plan.system}" disagree:\n${problems.map((p) => `- ${p}`).join('\n')}`);
  }
}

// ------------------------------------------------------------------ synthesis

function defaultAwsStack(plan: ProtectionPlan): Stack {
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
  const stack = new Stack(app, 'Primary', { env: { account: plan.primary.account, region: plan.primary.region } });
  new PrimarySite(stack, 'Primary', { plan });
  return stack;
}

function awsTemplate(stack: Stack): Json {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { Template } = require('aws-cdk-lib/assertions') as typeof import('aws-cdk-lib/assertions');
  return Template.fromStack(stack).toJSON();
}

// cdktf and the providers are optional peers: lib/terraform is loaded only when a counterparty half is synthesized.
type TerraformStacks = typeof import('../terraform/counterparty-stacks');
function terraformStacks(): TerraformStacks {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return require('../terraform/counterparty-stacks') as TerraformStacks;
}

function terraformJson(stack: Construct): Json {
  return terraformStacks().synthesizeTerraformJson(stack);
}

function defaultGcpStack(plan: ProtectionPlan): Construct {
  return terraformStacks().gcpCounterpartyStack(plan);
}

function defaultAzureStack(plan: ProtectionPlan): Construct {
  return terraformStacks().azureCounterpartyStack(plan);
}

// ------------------------------------------------------------------ checks

function resources(template: Json, type: string): Json[] {
  return Object.values((template.Resources ?? {}) as Record<string, Json>).filter((r) => r.Type === type);
}

function exportBucketName(aws: Json, plan: ResolvedPlan, problems: string[]): string {
  const want = naming.exportBucketName(plan);
  const found = resources(aws, 'AWS::S3::Bucket').some((b) => b.Properties?.BucketName === want);
  if (!found) problems.push(`AWS: no S3 bucket is named ${want} (naming.exportBucketName), which the counterparties copy from.`);
  return want;
}

/** The reader role of that name, and the ARN IAM gives it; a problem when it is missing. */
function readerRole(aws: Json, plan: ResolvedPlan, name: string, field: string, problems: string[]): { props: Json; arn: string } | undefined {
  const roles = resources(aws, 'AWS::IAM::Role').filter((r) => r.Properties?.RoleName === name);
  if (roles.length !== 1) {
    problems.push(`AWS: ${roles.length} IAM roles are named ${name}; the counterparty assumes exactly that one. `
      + `(Is plan.${field} set? The role is created only when it is; GcpReaderRole.forPlan / AzureReaderRole.forPlan give the name.)`);
    return undefined;
  }
  const props = roles[0].Properties;
  return { props, arn: `arn:aws:iam::${plan.primary.account}:role${props.Path ?? '/'}${name}` };
}

function trustCondition(role: Json): Json {
  const statements = role.AssumeRolePolicyDocument?.Statement ?? [];
  return statements.length === 1 ? statements[0].Condition : undefined;
}

function checkGcp(aws: Json, gcp: Json, plan: ResolvedPlan, bucket: string, problems: string[]): void {
  const jobs = Object.values((gcp.resource?.google_storage_transfer_job ?? {}) as Record<string, Json>);
  if (jobs.length !== 1) {
    problems.push(`GCP: ${jobs.length} Storage Transfer jobs; the contract has exactly one pulling the export bucket.`);
    return;
  }
  const source = jobs[0].transfer_spec?.aws_s3_data_source ?? {};
  if (source.bucket_name !== bucket) problems.push(`GCP: the transfer job reads bucket ${source.bucket_name}; AWS exports to ${bucket}.`);
  const role = readerRole(aws, plan, naming.gcpReaderRoleName(plan), 'counterparties.gcp.storageTransferSubjectId', problems);
  if (role) {
    if (source.role_arn !== role.arn) problems.push(`GCP: the transfer job assumes ${source.role_arn}; AWS creates ${role.arn}.`);
    const sub = trustCondition(role.props)?.StringEquals?.[`${naming.GCP_OIDC_ISSUER}:sub`];
    if (sub !== plan.counterparties.gcp?.storageTransferSubjectId) problems.push(`AWS: the GCP reader role trusts subject ${sub}; the plan's storageTransferSubjectId is ${plan.counterparties.gcp?.storageTransferSubjectId}.`);
  }
  const start = jobs[0].schedule?.start_time_of_day ?? {};
  const copy = counterpartySchedule(plan).copyUtc;
  if (start.hours !== copy.hour || (start.minutes ?? 0) !== copy.minute) {
    problems.push(`GCP: the pull starts at ${start.hours}:${start.minutes} UTC; the export window ends at ${copy.hour}:${copy.minute} UTC (counterpartySchedule).`);
  }
}

function checkAzure(aws: Json, azure: Json, plan: ResolvedPlan, bucket: string, problems: string[]): void {
  const a = plan.counterparties.azure!;
  const audience = naming.azureFederationAudience(plan);
  const providers = resources(aws, 'AWS::IAM::OIDCProvider');
  const issuer = naming.azureOidcIssuer(a.tenantId);
  if (!providers.some((p) => p.Properties?.Url === issuer && (p.Properties?.ClientIdList ?? []).includes(audience))) {
    problems.push(`AWS: no IAM OIDC provider for ${issuer} with client ID ${audience} (the Azure copy identity's token issuer and audience).`);
  }
  const jobs = Object.values((azure.resource?.azurerm_container_app_job ?? {}) as Record<string, Json>);
  const copyJob = jobs.find((j) => JSON.stringify(j.template ?? {}).includes('"copy"'));
  if (!copyJob) {
    problems.push('Azure: no container app job runs the copy command.');
    return;
  }
  const env: Record<string, string | undefined> = Object.fromEntries((copyJob.template.container?.[0]?.env ?? []).map((e: Json) => [e.name, e.value ?? e.secret_name]));
  const role = readerRole(aws, plan, naming.azureReaderRoleName(plan), 'counterparties.azure.copyIdentityPrincipalId', problems);
  if (role) {
    if (env.AWS_ROLE_ARN !== role.arn) problems.push(`Azure: the copy job assumes ${env.AWS_ROLE_ARN}; AWS creates ${role.arn}.`);
    const host = naming.azureOidcIssuerHost(a.tenantId);
    const cond = trustCondition(role.props)?.StringEquals ?? {};
    if (cond[`${host}:aud`] !== audience || cond[`${host}:sub`] !== a.copyIdentityPrincipalId) {
      problems.push(`AWS: the Azure reader role trusts aud ${cond[`${host}:aud`]} / sub ${cond[`${host}:sub`]}; the plan gives ${audience} / ${a.copyIdentityPrincipalId}.`);
    }
  }
  if (env.CP_AZURE_TOKEN_AUDIENCE !== audience) problems.push(`Azure: the copy job requests tokens for ${env.CP_AZURE_TOKEN_AUDIENCE}; AWS trusts ${audience} (naming.azureFederationAudience).`);
  if (env.CP_SOURCE_BUCKET !== bucket) problems.push(`Azure: the copy job reads bucket ${env.CP_SOURCE_BUCKET}; AWS exports to ${bucket}.`);
  if (env.AWS_REGION !== plan.primary.region) problems.push(`Azure: the copy job uses AWS region ${env.AWS_REGION}; the primary is in ${plan.primary.region}.`);
  const cron = counterpartySchedule(plan).copyCronUtc;
  if (copyJob.schedule_trigger_config?.cron_expression !== cron) {
    problems.push(`Azure: the copy runs at "${copyJob.schedule_trigger_config?.cron_expression}"; after the export window it is "${cron}" (counterpartySchedule).`);
  }
}
