import { Duration } from 'aws-cdk-lib';
import * as ecr from 'aws-cdk-lib/aws-ecr';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import { naming } from '../core';
import type { ResolvedPlan, ProtectionPlan } from '../core';
import type { IImmutableExportBucket } from './immutable-export-bucket';

const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** What every counterparty reader role may read. */
export interface CounterpartyReadAccess {
  /** The export bucket the counterparty copies. */
  readonly exportBucket: IImmutableExportBucket;
  /**
   * ECR repositories the counterparty may pull images from (to mirror the
   * jobs and application images keylessly).
   * @default - no image pull
   */
  readonly imageRepositories?: ecr.IRepository[];
  /**
   * The role's name. The counterparty assumes the role by the ARN the naming
   * contract gives (`naming.gcpReaderRoleArn(plan)` / `naming.azureReaderRoleArn(plan)`),
   * so a reader role without this name is refused at synth. `forPlan` sets it.
   */
  readonly roleName?: string;
  /**
   * The role's path.
   * @default naming.READER_ROLE_PATH ('/counterparty/')
   */
  readonly path?: string;
  /**
   * Longest session the counterparty may hold (1 to 12 hours). A nightly copy
   * refreshes its credentials per request, so an hour is plenty.
   * @default Duration.hours(1)
   */
  readonly maxSessionDuration?: Duration;
}

function grantReaderPermissions(role: iam.Role, access: CounterpartyReadAccess): void {
  access.exportBucket.grantCounterpartyRead(role);
  const repos = access.imageRepositories ?? [];
  if (repos.length > 0) {
    role.addToPolicy(new iam.PolicyStatement({
      sid: 'EcrAuthorizationToken',
      // GetAuthorizationToken has no resource-level scoping.
      actions: ['ecr:GetAuthorizationToken'],
      resources: ['*'],
    }));
    role.addToPolicy(new iam.PolicyStatement({
      sid: 'EcrPullImages',
      actions: ['ecr:BatchGetImage', 'ecr:GetDownloadUrlForLayer', 'ecr:BatchCheckLayerAvailability'],
      resources: repos.map((r) => r.repositoryArn),
    }));
  }
}

/** The access of a reader role built from a plan: everything but the name and path, which the naming contract decides. */
export type ReaderAccessForPlan = Omit<CounterpartyReadAccess, 'roleName' | 'path'>;

function requireContractName(scope: Construct, access: CounterpartyReadAccess, factory: string, nameFn: string): void {
  if (access.roleName === undefined) {
    throw new Error(`${scope.node.path}: roleName is not set, so the role would get a generated name, while the counterparty assumes ${nameFn} under ${naming.READER_ROLE_PATH}: `
      + `the nightly pull would fail at run time. Fix: create it with ${factory}(scope, id, plan, { exportBucket }), or pass roleName: naming.${nameFn}(plan).`);
  }
}

function newReaderRole(scope: Construct, access: CounterpartyReadAccess, principal: iam.IPrincipal, description: string): iam.Role {
  const hours = access.maxSessionDuration?.toHours({ integral: false }) ?? 1;
  if (hours < 1 || hours > 12) {
    throw new Error(`${scope.node.path}: maxSessionDuration is ${hours} hours; IAM allows 1 to 12. Fix: pass Duration.hours(1..12), or leave it out for 1 hour.`);
  }
  const role = new iam.Role(scope, 'Role', {
    roleName: access.roleName,
    path: access.path ?? naming.READER_ROLE_PATH,
    assumedBy: principal,
    description,
    maxSessionDuration: Duration.hours(hours),
  });
  grantReaderPermissions(role, access);
  return role;
}

/** Properties of a {@link GcpReaderRole}. */
export interface GcpReaderRoleProps extends CounterpartyReadAccess {
  /**
   * The numeric `subjectId` of the GCP project's Storage Transfer Service
   * account (the GCP stack's output `storage_transfer_subject_id`). The role
   * trusts `accounts.google.com` tokens with exactly this `sub`.
   */
  readonly storageTransferSubjectId: string;
}

/**
 * The role Google Storage Transfer Service assumes, with no keys, to pull the
 * export bucket: trusted by `accounts.google.com` (`sts:AssumeRoleWithWebIdentity`)
 * only for the project's transfer service account subject; read-only on the
 * export bucket (and image pull), nothing else.
 */
export class GcpReaderRole extends Construct {
  /**
   * The GCP reader role of a plan, with the name and trust the GCP half expects
   * (`naming.gcpReaderRoleName(plan)`, the plan's `storageTransferSubjectId`).
   */
  public static forPlan(scope: Construct, id: string, plan: ProtectionPlan | ResolvedPlan, access: ReaderAccessForPlan): GcpReaderRole {
    const subject = plan.counterparties.gcp?.storageTransferSubjectId;
    if (!subject) {
      throw new Error(`${scope.node.path}/${id}: plan.counterparties.gcp.storageTransferSubjectId is not set. Fix: deploy the GCP stack, copy its output storage_transfer_subject_id into the plan.`);
    }
    return new GcpReaderRole(scope, id, { ...access, roleName: naming.gcpReaderRoleName(plan), storageTransferSubjectId: subject });
  }

  /** The role. */
  public readonly role: iam.Role;

  constructor(scope: Construct, id: string, props: GcpReaderRoleProps) {
    super(scope, id);
    if (!/^\d{10,30}$/.test(props.storageTransferSubjectId ?? '')) {
      throw new Error(`${this.node.path}: storageTransferSubjectId is ${JSON.stringify(props.storageTransferSubjectId)}; it must be the numeric subject ID of the Storage Transfer Service account. Fix: copy the GCP stack output storage_transfer_subject_id.`);
    }
    requireContractName(this, props, 'GcpReaderRole.forPlan', 'gcpReaderRoleName');
    this.role = newReaderRole(this, props, new iam.WebIdentityPrincipal(naming.GCP_OIDC_ISSUER, {
      StringEquals: { [`${naming.GCP_OIDC_ISSUER}:sub`]: props.storageTransferSubjectId },
    }), 'Read-only access to the Counterparty export bucket for the GCP Storage Transfer Service (keyless)');
  }
}

/** Properties of an {@link AzureReaderRole}. */
export interface AzureReaderRoleProps extends CounterpartyReadAccess {
  /** The Entra tenant ID (a UUID) whose tokens are trusted. */
  readonly tenantId: string;
  /** The principal (object) ID of the copy job's managed identity: the required `sub`. */
  readonly principalId: string;
  /**
   * The audience the managed identity requests its token for: the required `aud`,
   * and the OIDC provider's client ID.
   * @default 'api://AzureADTokenExchange'
   */
  readonly audience?: string;
  /**
   * An existing IAM OIDC provider for the tenant's issuer (an account holds one per issuer URL).
   * @default - a new `OidcProviderNative` for `naming.azureOidcIssuer(tenantId)` (no Lambda custom resource; IAM fetches the thumbprint itself)
   */
  readonly oidcProvider?: iam.IOidcProvider;
}

/**
 * The role the Azure copy job's managed identity assumes, with no keys: an IAM
 * OIDC provider for the Entra tenant's issuer, and a role conditioned on the
 * identity's audience and subject; read-only on the export bucket.
 */
export class AzureReaderRole extends Construct {
  /**
   * The Azure reader role of a plan, with the name, tenant, principal and
   * audience the Azure half expects (`naming.azureReaderRoleName(plan)`,
   * `naming.azureFederationAudience(plan)`).
   */
  public static forPlan(scope: Construct, id: string, plan: ProtectionPlan | ResolvedPlan, access: ReaderAccessForPlan & { readonly oidcProvider?: iam.IOidcProvider }): AzureReaderRole {
    const azure = plan.counterparties.azure;
    if (!azure?.copyIdentityPrincipalId) {
      throw new Error(`${scope.node.path}/${id}: plan.counterparties.azure.copyIdentityPrincipalId is not set. Fix: deploy the Azure stack, copy its output copy_identity_principal_id into the plan.`);
    }
    return new AzureReaderRole(scope, id, {
      ...access,
      roleName: naming.azureReaderRoleName(plan),
      tenantId: azure.tenantId,
      principalId: azure.copyIdentityPrincipalId,
      audience: naming.azureFederationAudience(plan),
    });
  }

  /** The role. */
  public readonly role: iam.Role;
  /** The OIDC provider the role trusts. */
  public readonly oidcProvider: iam.IOidcProvider;

  constructor(scope: Construct, id: string, props: AzureReaderRoleProps) {
    super(scope, id);
    for (const [field, value] of [['tenantId', props.tenantId], ['principalId', props.principalId]] as const) {
      if (!UUID_RE.test(value ?? '')) {
        throw new Error(`${this.node.path}: ${field} is ${JSON.stringify(value)}; it must be a UUID. Fix: ${field === 'tenantId' ? 'give the Entra tenant ID' : 'copy the Azure stack output copy_identity_principal_id'}.`);
      }
    }
    requireContractName(this, props, 'AzureReaderRole.forPlan', 'azureReaderRoleName');
    const audience = props.audience ?? 'api://AzureADTokenExchange';
    if (audience.trim() === '') throw new Error(`${this.node.path}: audience is empty. Fix: leave it out for api://AzureADTokenExchange.`);
    const host = naming.azureOidcIssuerHost(props.tenantId);
    this.oidcProvider = props.oidcProvider ?? new iam.OidcProviderNative(this, 'OidcProvider', {
      url: naming.azureOidcIssuer(props.tenantId),
      clientIds: [audience],
    });
    this.role = newReaderRole(this, props, new iam.WebIdentityPrincipal(this.oidcProvider.oidcProviderArn, {
      StringEquals: { [`${host}:aud`]: audience, [`${host}:sub`]: props.principalId },
    }), 'Read-only access to the Counterparty export bucket for the Azure copy job managed identity (keyless)');
  }
}

/** What every image-mirror role has: ECR pull on the given repositories, nothing else. */
export interface ImageMirrorRoleProps {
  /** The repositories the mirror copies from (the plan's jobs and application images). At least one. */
  readonly repositories: ecr.IRepository[];
  /**
   * The role's name. In a Counterparty deployment the naming contract decides it.
   * @default - a CloudFormation-generated name
   */
  readonly roleName?: string;
  /**
   * The role's path.
   * @default naming.READER_ROLE_PATH ('/counterparty/')
   */
  readonly path?: string;
}

function newImageMirrorRole(scope: Construct, props: ImageMirrorRoleProps, principal: iam.IPrincipal, description: string): iam.Role {
  if (props.repositories.length === 0) {
    throw new Error(`${scope.node.path}: repositories is empty. Fix: pass the ECR repositories of the plan's images (PrimarySite passes the jobs and application repositories).`);
  }
  const role = new iam.Role(scope, 'Role', {
    roleName: props.roleName,
    path: props.path ?? naming.READER_ROLE_PATH,
    assumedBy: principal,
    description,
    maxSessionDuration: Duration.hours(1),
  });
  role.addToPolicy(new iam.PolicyStatement({
    sid: 'EcrAuthorizationToken',
    // GetAuthorizationToken has no resource-level scoping.
    actions: ['ecr:GetAuthorizationToken'],
    resources: ['*'],
  }));
  role.addToPolicy(new iam.PolicyStatement({
    sid: 'EcrPullImages',
    actions: [...ECR_PULL_ACTIONS],
    resources: props.repositories.map((r) => r.repositoryArn),
  }));
  return role;
}

/** The ECR actions an image pull (by tag or digest) needs, besides `ecr:GetAuthorizationToken`. */
export const ECR_PULL_ACTIONS = ['ecr:BatchGetImage', 'ecr:GetDownloadUrlForLayer', 'ecr:BatchCheckLayerAvailability'] as const;

/** Properties of a {@link GcpImageMirrorRole}. */
export interface GcpImageMirrorRoleProps extends ImageMirrorRoleProps {
  /** The numeric unique ID of the GCP image-mirror service account (GCP stack output `image_mirror_subject_id`). */
  readonly mirrorSubjectId: string;
  /** The audience the mirror requests its Google ID token for (`naming.gcpImageMirrorTokenAudience(plan)`): required as `accounts.google.com:oaud`. */
  readonly tokenAudience: string;
}

/**
 * The role the GCP image mirror assumes with its Google ID token (no keys) to
 * pull the plan's images from ECR: trusted by `accounts.google.com` only for
 * the mirror service account (its unique ID as `aud` and `sub`) and the
 * token's audience (`oaud`); ECR pull on the given repositories and nothing
 * else (no export bucket access).
 */
export class GcpImageMirrorRole extends Construct {
  /** The role. */
  public readonly role: iam.Role;

  constructor(scope: Construct, id: string, props: GcpImageMirrorRoleProps) {
    super(scope, id);
    if (!/^\d{10,30}$/.test(props.mirrorSubjectId ?? '')) {
      throw new Error(`${this.node.path}: mirrorSubjectId is ${JSON.stringify(props.mirrorSubjectId)}; it must be the numeric unique ID of the image-mirror service account. Fix: copy the GCP stack output image_mirror_subject_id.`);
    }
    if (!props.tokenAudience?.trim()) throw new Error(`${this.node.path}: tokenAudience is empty. Fix: pass naming.gcpImageMirrorTokenAudience(plan).`);
    this.role = newImageMirrorRole(this, props, new iam.WebIdentityPrincipal(naming.GCP_OIDC_ISSUER, {
      StringEquals: {
        [`${naming.GCP_OIDC_ISSUER}:aud`]: props.mirrorSubjectId,
        [`${naming.GCP_OIDC_ISSUER}:sub`]: props.mirrorSubjectId,
        [`${naming.GCP_OIDC_ISSUER}:oaud`]: props.tokenAudience,
      },
    }), 'ECR pull only, for the GCP counterparty image mirror (keyless)');
  }
}

/** Properties of an {@link AzureImageMirrorRole}. */
export interface AzureImageMirrorRoleProps extends ImageMirrorRoleProps {
  /** The IAM OIDC provider of the tenant's issuer (the one the Azure reader role trusts). */
  readonly oidcProvider: iam.IOidcProvider;
  /** The Entra tenant ID (a UUID). */
  readonly tenantId: string;
  /** The principal (object) ID of the mirror job's managed identity: the required `sub`. */
  readonly principalId: string;
  /** The audience the identity requests its token for (`naming.azureFederationAudience(plan)`): the required `aud`. */
  readonly audience: string;
}

/**
 * The role the Azure image-mirror job's managed identity assumes (no keys) to
 * pull the plan's images from ECR: the tenant's OIDC provider, conditioned on
 * the audience and the mirror identity's object ID; ECR pull on the given
 * repositories and nothing else.
 */
export class AzureImageMirrorRole extends Construct {
  /** The role. */
  public readonly role: iam.Role;

  constructor(scope: Construct, id: string, props: AzureImageMirrorRoleProps) {
    super(scope, id);
    for (const [field, value] of [['tenantId', props.tenantId], ['principalId', props.principalId]] as const) {
      if (!UUID_RE.test(value ?? '')) {
        throw new Error(`${this.node.path}: ${field} is ${JSON.stringify(value)}; it must be a UUID. Fix: ${field === 'tenantId' ? 'give the Entra tenant ID' : 'copy the Azure stack output of the mirror identity\'s principal ID'}.`);
      }
    }
    if (!props.audience?.trim()) throw new Error(`${this.node.path}: audience is empty. Fix: pass naming.azureFederationAudience(plan).`);
    const host = naming.azureOidcIssuerHost(props.tenantId);
    this.role = newImageMirrorRole(this, props, new iam.WebIdentityPrincipal(props.oidcProvider.oidcProviderArn, {
      StringEquals: { [`${host}:aud`]: props.audience, [`${host}:sub`]: props.principalId },
    }), 'ECR pull only, for the Azure counterparty image mirror managed identity (keyless)');
  }
}
