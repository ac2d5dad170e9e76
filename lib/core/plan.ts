/**
 * The protection plan: a provider-neutral, typed description of what must be
 * protected, how often, for how long, how immutably, and where the
 * counterparty copies live. Both halves of Counterparty (the aws-cdk primary
 * and the cdktf counterparties) synthesize from one plan, independently.
 *
 * Write a plan as a plain object literal typed `ProtectionPlan`; call
 * {@link resolvePlan} to validate it and fill in the defaults.
 */

/** What every dataset kind has. */
export interface DatasetBase {
  /** Dataset name: lowercase letters, digits and hyphens, 2-32 characters, unique in the plan. */
  readonly name: string;
  /**
   * Whether a night in which this dataset is empty (no objects, no items, no tables,
   * no Connect documents) still counts as complete. Leave it false unless the source
   * really can be empty: an empty night is usually a broken export.
   * @default false
   */
  readonly allowEmpty?: boolean;
}

/** An S3 bucket whose objects must be kept (call recordings, chat transcripts, Contact Lens output). */
export interface S3BucketDataset extends DatasetBase {
  readonly kind: 's3Bucket';
  /** The source bucket's name. */
  readonly bucketName: string;
  /**
   * Only objects under this key prefix are protected.
   * @default - the whole bucket
   */
  readonly prefix?: string;
}

/** A DynamoDB table exported nightly as DynamoDB JSON (contact records, customer profiles). */
export interface DynamoDbTableDataset extends DatasetBase {
  readonly kind: 'dynamoDbTable';
  /** The source table's name. */
  readonly tableName: string;
  /**
   * Whether point-in-time recovery is enabled on the source table.
   * `ExportTableToPointInTime` needs it; a plan that says `false` is refused.
   * When the table is a construct in the same CDK app, the AWS constructs also
   * check the table's own setting.
   * @default true
   */
  readonly pointInTimeRecovery?: boolean;
}

/** An RDS or Aurora PostgreSQL database dumped nightly with `pg_dump -Fc`. */
export interface PostgresDataset extends DatasetBase {
  readonly kind: 'postgres';
  /** `aurora-postgresql` (a cluster) or `rds-postgresql` (an instance). */
  readonly engine: 'aurora-postgresql' | 'rds-postgresql';
  /**
   * The server's PostgreSQL major version. The counterparties' standby servers run the
   * same major version, and the jobs image's `pg_dump` must be at least as new as the
   * server (it refuses to dump a newer one), so a version above
   * `LIMITS.pgClientMajorVersion` is refused.
   * @default 16
   */
  readonly engineVersion?: number;
  /**
   * Extensions the database uses (`CREATE EXTENSION` names, e.g. `pgcrypto`, `citext`).
   * The counterparties allow-list them on their standby servers (Azure `azure.extensions`),
   * so the restore can create them.
   * @default []
   */
  readonly extensions?: readonly string[];
  /** The Aurora cluster identifier or RDS instance identifier (used for AWS Backup). */
  readonly identifier: string;
  /**
   * Host name the dump job connects to (the cluster's reader or writer endpoint).
   * Only the AWS half reads it, so it may be a CDK token (`cluster.clusterReadEndpoint.hostname`).
   * @default - from the database given in `PrimarySite` `sources` (required there when left out here)
   */
  readonly endpoint?: string;
  /** @default 5432 */
  readonly port?: number;
  /** The database to dump. */
  readonly databaseName: string;
  /**
   * ARN of the Secrets Manager secret holding `username` and `password` for a read-only user.
   * Only the AWS half reads it, so it may be a CDK token (`secret.secretArn`).
   * @default - from `credentials` in `PrimarySite` `sources` (required there when left out here)
   */
  readonly credentialsSecretArn?: string;
  /**
   * Where the dump task runs: the database's VPC, private subnets and a security group allowed to reach it.
   * Only the AWS half reads it, so its IDs may be CDK tokens (`vpc.vpcId`, `subnet.subnetId`).
   * @default - from `vpc`, `subnets` and `securityGroups` in `PrimarySite` `sources` (required there when left out here)
   */
  readonly network?: JobsNetworkPlan;
}

/** An Amazon Connect instance whose configuration is crawled into JSON nightly. */
export interface ConnectInstanceDataset extends DatasetBase {
  readonly kind: 'connectInstance';
  /** The instance ID (a UUID). */
  readonly instanceId: string;
}

export type Dataset = S3BucketDataset | DynamoDbTableDataset | PostgresDataset | ConnectInstanceDataset;
export type DatasetKind = Dataset['kind'];
export const DATASET_KINDS: readonly DatasetKind[] = ['s3Bucket', 'dynamoDbTable', 'postgres', 'connectInstance'];

/** When the nightly snapshot runs. */
export interface SchedulePlan {
  /**
   * A standard 5-field cron (`minute hour day-of-month month day-of-week`)
   * that fires once a day at a fixed minute and hour.
   * @default '0 2 * * *'
   */
  readonly cron?: string;
  /**
   * IANA time zone the cron is read in.
   * @default 'UTC'
   */
  readonly timeZone?: string;
  /**
   * How long the primary's export takes, at most. Counterparty copies start
   * this many hours after the export starts.
   * @default 3
   */
  readonly exportWindowHours?: number;
}

/**
 * How immutable the copies are. The default, governance, can be undone by a
 * privileged administrator. Compliance and locks cannot be undone by anyone,
 * including the cloud provider's support, so each needs its own opt-in.
 */
export interface ImmutabilityPlan {
  /**
   * `governance`: S3 Object Lock governance mode and a governance-mode Vault Lock.
   * `compliance`: S3 Object Lock compliance mode and a compliance-mode Vault Lock
   * (which becomes immutable after `vaultLockChangeableForHours`).
   * @default 'governance'
   */
  readonly mode?: 'governance' | 'compliance';
  /**
   * Explicit opt-in to compliance mode. Required, and must be `true`, when `mode` is `compliance`.
   * @default false
   */
  readonly acknowledgeComplianceIsIrreversible?: boolean;
  /**
   * Lock the counterparties' retention: GCS `retentionPolicy.isLocked` and the Azure
   * account's immutability policy `Locked`. Irreversible: retention can then only be lengthened,
   * and the bucket/account can't be deleted until every object has aged out.
   * @default false
   */
  readonly lock?: boolean;
  /**
   * Explicit opt-in to `lock`. Required, and must be `true`, when `lock` is `true`.
   * @default false
   */
  readonly acknowledgeLockIsIrreversible?: boolean;
  /**
   * Compliance-mode Vault Lock grace period, in hours (AWS minimum 72).
   * @default 72
   */
  readonly vaultLockChangeableForHours?: number;
}

/** Where the primary's Fargate jobs run: private subnets with a route to S3, ECR, CloudWatch Logs and Secrets Manager. */
export interface JobsNetworkPlan {
  readonly vpcId: string;
  readonly subnetIds: readonly string[];
  readonly securityGroupIds: readonly string[];
  /** @default - the AZs are looked up by CDK; give them to stay offline-deterministic */
  readonly availabilityZones?: readonly string[];
}

/** The primary: an AWS account and region. */
export interface PrimaryPlan {
  /** 12-digit AWS account ID. */
  readonly account: string;
  readonly region: string;
  /**
   * Where the `sync-objects` Fargate tasks run. Required when the plan has
   * `s3Bucket` datasets and no `postgres` dataset (whose network is used otherwise).
   * @default - the network of the plan's first postgres dataset
   */
  readonly jobsNetwork?: JobsNetworkPlan;
}

/** Data-residency constraint. */
export interface ResidencyPlan {
  /** Jurisdictions (`eu`, `uk`, `ch`, `us`, `ca`, `au`) and/or exact region names. */
  readonly allowed: readonly string[];
}

/** Who is told when a night fails or goes missing. */
export interface NotificationPlan {
  /** E-mail addresses subscribed on every side. @default [] */
  readonly emails?: readonly string[];
}

/** Container images of this system; the counterparties keep their own copies. */
export interface ImagesPlan {
  /** The contact-centre application image, as a repository name and tag (no registry host). @default 'contact-centre-app:stable' */
  readonly application?: string;
  /** The Counterparty jobs image (verifier, restorer, copy, pg_dump). @default 'counterparty-jobs:0.1.0' */
  readonly jobs?: string;
  /**
   * How many releases of each image the counterparty registries keep (the mirror never deletes
   * the newest N), so the standby can roll back to an earlier release by changing one field.
   * @default 5
   */
  readonly keepReleases?: number;
}

/** How the counterparties verify what they hold. */
export interface VerificationPlan {
  /**
   * Every stored blob is re-read and re-hashed at least once in this many nights (the scrub),
   * on top of every new blob each night. Smaller is safer and costs more reads per night
   * (about estate ÷ scrubCycleNights blobs).
   * @default 30
   */
  readonly scrubCycleNights?: number;
}

/** Whether a counterparty is a warm standby or is serving (the failover switch). */
export type CounterpartyMode = 'standby' | 'active';

/** The GCP counterparty. */
export interface GcpCounterpartyPlan {
  /** The GCP project ID. */
  readonly projectId: string;
  /** The region of the vault bucket and the standby (must pass residency). */
  readonly region: string;
  /**
   * The numeric `subjectId` of the project's Storage Transfer Service account
   * (output `storage_transfer_subject_id` of the GCP stack). The AWS reader role
   * trusts only this subject. Known only after the GCP stack exists: deploy GCP
   * first, copy the output here, then deploy AWS.
   * @default - none: the AWS reader role for GCP is not created, and a warning is given
   */
  readonly storageTransferSubjectId?: string;
  /**
   * Self link or ID of a VPC network (with private services access) for the standby database's
   * private IP. Required by `GcpCounterparty`: Cloud SQL gets a private IP only, never a public one.
   * @default - none: `GcpCounterparty` refuses the plan, naming this field
   */
  readonly network?: string;
  /** Standby or serving. @default 'standby' */
  readonly mode?: CounterpartyMode;
  /** Cloud Monitoring notification channel IDs to alert. @default - an e-mail channel per plan notification address */
  readonly notificationChannels?: readonly string[];
  /**
   * The numeric unique ID of the image-mirror service account (output `image_mirror_subject_id` of
   * the GCP stack): the `sub`/`azp` the AWS ECR-pull role for GCP trusts
   * (`naming.gcpImageMirrorTrustConditions`). Known only after the GCP stack exists.
   * @default - none: the AWS mirror role for GCP is not created, and the mirror job fails at STS
   */
  readonly imageMirrorSubjectId?: string;
  /**
   * Day-one deploy with empty registries: create everything except what runs an image (the
   * application service and the Cloud Run jobs), run the first mirror by hand, then set it back to
   * `false`. See docs/gcp.md "Bootstrap".
   * @default false
   */
  readonly bootstrap?: boolean;
}

/** The Azure counterparty. */
export interface AzureCounterpartyPlan {
  readonly subscriptionId: string;
  /** The Entra tenant ID (a UUID); the AWS OIDC provider trusts this tenant's issuer. */
  readonly tenantId: string;
  /** The Azure location (must pass residency). */
  readonly location: string;
  /**
   * The principal (object) ID of the copy job's user-assigned identity
   * (output `copy_identity_principal_id` of the Azure stack): the `sub` claim the
   * AWS reader role requires. Known only after the Azure stack exists.
   * @default - none: the AWS reader role for Azure is not created, and a warning is given
   */
  readonly copyIdentityPrincipalId?: string;
  /**
   * The audience the copy and mirror identities request their tokens for, which is the Application ID
   * URI of the counterparty's Entra app registration; the AWS role requires it as `aud`. Always derive it
   * with `naming.azureFederationAudience(plan)`: the reserved `api://AzureADTokenExchange` (the old
   * default, which yields v2.0 tokens AWS does not trust) counts as unset (docs/azure.md).
   * @default - `api://<system>-aws-federation`
   */
  readonly tokenAudience?: string;
  /**
   * IP ranges (CIDR) allowed to reach the storage account and Key Vault; public network access is otherwise denied.
   * @default [] (Azure services only)
   */
  readonly allowedIpRanges?: readonly string[];
  /** Standby or serving. @default 'standby' */
  readonly mode?: CounterpartyMode;
  /**
   * The principal (object) ID of the image-mirror job's user-assigned identity (output
   * `mirror_identity_principal_id` of the Azure stack): the `sub` the AWS ECR-pull role for Azure requires.
   * @default - none: the AWS mirror role for Azure is not created, and the mirror job's self-check fails
   */
  readonly mirrorIdentityPrincipalId?: string;
  /**
   * Client ID of an existing Entra app registration to federate through (its Application ID URI must be
   * `tokenAudience`, it must accept v1 tokens and have an application app role `AssumeRoleWithWebIdentity`).
   * @default - the Azure stack creates the app registration
   */
  readonly federationApplicationClientId?: string;
  /**
   * IP ranges (CIDR) allowed to reach the application's ingress while `mode` is `active`.
   * @default - `allowedIpRanges`; an active app with no range at all is refused unless `applicationPublicIngress` is true
   */
  readonly applicationAllowedIpRanges?: readonly string[];
  /**
   * Serve the active application to the whole internet (no IP allow-list): an explicit opt-in.
   * @default false
   */
  readonly applicationPublicIngress?: boolean;
  /**
   * Day-one deploy with an empty registry: create everything except what runs an image (the Container
   * Apps jobs and the application), import the jobs image once by hand, then set it back to `false`.
   * See docs/azure.md "Bootstrap".
   * @default false
   */
  readonly bootstrap?: boolean;
}

export interface CounterpartiesPlan {
  readonly gcp?: GcpCounterpartyPlan;
  readonly azure?: AzureCounterpartyPlan;
}

/** The whole plan. */
export interface ProtectionPlan {
  /**
   * The system's name: lowercase letters, digits and hyphens, starting with a letter.
   * Every derived resource name starts with it, so keep it short (≤ 16 characters is safe everywhere).
   */
  readonly system: string;
  /** The primary: an AWS account and region. */
  readonly primary: PrimaryPlan;
  /** What is protected. At least one. */
  readonly datasets: readonly Dataset[];
  /** @default - daily at 02:00 UTC */
  readonly schedule?: SchedulePlan;
  /**
   * Recovery point objective in hours: a night older than this is an alarm.
   * @default 24
   */
  readonly rpoHours?: number;
  /**
   * Extra hours allowed past the RPO before freshness alarms fire.
   * @default 6
   */
  readonly alarmGraceHours?: number;
  /** How long every copy is kept, in days; at least the RPO, at most 36500 (S3 Object Lock's maximum). */
  readonly retentionDays: number;
  /** @default - governance mode, nothing locked */
  readonly immutability?: ImmutabilityPlan;
  /** @default - every blob re-read at least once every 30 nights */
  readonly verification?: VerificationPlan;
  /** The counterparty clouds. At least one. */
  readonly counterparties: CounterpartiesPlan;
  /** @default - no constraint */
  readonly residency?: ResidencyPlan;
  /** @default - no subscribers */
  readonly notifications?: NotificationPlan;
  /** @default - see {@link ImagesPlan} */
  readonly images?: ImagesPlan;
  /**
   * Tags/labels added to every resource on every side (keys and values are lowercased for GCP labels).
   * @default {}
   */
  readonly tags?: Readonly<Record<string, string>>;
}

/** A plan with every default filled in, as returned by {@link resolvePlan}. */
export interface ResolvedPlan {
  readonly system: string;
  readonly primary: PrimaryPlan;
  readonly datasets: readonly Dataset[];
  readonly schedule: Required<SchedulePlan>;
  readonly rpoHours: number;
  readonly alarmGraceHours: number;
  readonly retentionDays: number;
  readonly immutability: Required<ImmutabilityPlan>;
  readonly verification: Required<VerificationPlan>;
  readonly counterparties: {
    readonly gcp?: GcpCounterpartyPlan & { readonly mode: CounterpartyMode };
    readonly azure?: AzureCounterpartyPlan & { readonly mode: CounterpartyMode; readonly tokenAudience: string; readonly allowedIpRanges: readonly string[] };
  };
  readonly residency?: ResidencyPlan;
  readonly notifications: { readonly emails: readonly string[] };
  readonly images: Required<ImagesPlan>;
  readonly tags: Readonly<Record<string, string>>;
}

export const DEFAULTS = {
  cron: '0 2 * * *',
  timeZone: 'UTC',
  exportWindowHours: 3,
  rpoHours: 24,
  alarmGraceHours: 6,
  vaultLockChangeableForHours: 72,
  applicationImage: 'contact-centre-app:stable',
  jobsImage: 'counterparty-jobs:0.1.0',
  keepReleases: 5,
  scrubCycleNights: 30,
  postgresEngineVersion: 16,
} as const;

/** Provider limits the plan is checked against. */
export const LIMITS = {
  /** S3 Object Lock default retention and Backup Vault Lock max retention: 100 years. */
  maxRetentionDays: 36500,
  /** GCS retention policies: at most 3,155,760,000 s (100 years). */
  gcsMaxRetentionSeconds: 3_155_760_000,
  /** Azure immutability policy period: 1-146000 days. */
  azureMaxRetentionDays: 146000,
  /** AWS Backup Vault Lock `ChangeableForDays` minimum. */
  minVaultLockChangeableForHours: 72,
  /** The PostgreSQL client tools in the jobs image (Debian trixie's postgresql-client-17): pg_dump refuses newer servers. */
  pgClientMajorVersion: 17,
  /** The oldest server major version the restore path is tested for. */
  minPostgresMajorVersion: 13,
  /** A scrub cycle longer than a year leaves corruption unseen for too long. */
  maxScrubCycleNights: 365,
  maxKeepReleases: 50,
} as const;
