import { Duration } from 'aws-cdk-lib';
import * as ecr from 'aws-cdk-lib/aws-ecr';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import { naming } from '../core';
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
   * The role's name. In a Counterparty deployment the naming contract decides it.
   * @default - a CloudFormation-generated name
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
  /** The role. */
  public readonly role: iam.Role;

  constructor(scope: Construct, id: string, props: GcpReaderRoleProps) {
    super(scope, id);
    if (!/^\d{10,30}$/.test(props.storageTransferSubjectId ?? '')) {
      throw new Error(`${this.node.path}: storageTransferSubjectId is ${JSON.stringify(props.storageTransferSubjectId)}; it must be the numeric subject ID of the Storage Transfer Service account. Fix: copy the GCP stack output storage_transfer_subject_id.`);
    }
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
