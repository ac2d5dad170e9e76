import { Duration, Lazy, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { naming } from '../core';
import { KeyDeletionProtection, ProtectedKey } from './protected-key';

/** S3 Object Lock retention mode of the export bucket. */
export type ObjectLockMode = 'governance' | 'compliance';

/** An export bucket, created here or imported. */
export interface IImmutableExportBucket {
  /** The bucket. */
  readonly bucket: s3.IBucket;
  /** The customer-managed key the bucket's objects are encrypted with. */
  readonly encryptionKey: kms.IKey;
  /** The bucket's name. */
  readonly bucketName: string;
  /**
   * The read-only access a counterparty needs, and nothing more: list (with
   * versions) and get (with versions, attributes and tags) on this bucket only,
   * and `kms:Decrypt` on its key only through S3 (`kms:ViaService`).
   */
  grantCounterpartyRead(grantee: iam.IGrantable): void;
  /** `s3:PutObject` (and multipart abort) under `keyPattern` (e.g. `nights/*\/crm/*`), with the key use that SSE-KMS needs. */
  grantWriteUnder(grantee: iam.IGrantable, keyPattern: string): void;
  /** `s3:GetObject` under `keyPattern` and `s3:ListBucket`, with decrypt through S3. */
  grantReadUnder(grantee: iam.IGrantable, keyPattern?: string): void;
  /**
   * What `prune` needs, and nothing more: list (and list versions) under
   * `nights/` and `blobs/sha256/`; read `nights/*` (manifests, indexes); head,
   * read the Object Lock retention of, and delete versions (`s3:DeleteObjectVersion`,
   * never a delete marker) under `blobs/sha256/*` only; `kms:Decrypt` on the bucket's key through S3.
   * On an {@link ImmutableExportBucket} created in this app the bucket
   * policy also lets the role delete under `blobs/sha256/` (only); on an
   * imported bucket, list the role in that bucket's `blobDeletionPrincipalArns`.
   */
  grantPrune(grantee: iam.IGrantable): void;
}

/** Attributes to import an existing export bucket. */
export interface ImmutableExportBucketAttributes {
  /** The export bucket's name. */
  readonly bucketName: string;
  /** ARN of the bucket's KMS key. */
  readonly encryptionKeyArn: string;
}

abstract class ExportBucketBase extends Construct implements IImmutableExportBucket {
  public abstract readonly bucket: s3.IBucket;
  public abstract readonly encryptionKey: kms.IKey;

  public get bucketName(): string {
    return this.bucket.bucketName;
  }

  public grantCounterpartyRead(grantee: iam.IGrantable): void {
    const region = Stack.of(this).region;
    iam.Grant.addToPrincipal({
      grantee,
      actions: ['s3:ListBucket', 's3:ListBucketVersions', 's3:GetBucketLocation'],
      resourceArns: [this.bucket.bucketArn],
    });
    iam.Grant.addToPrincipal({
      grantee,
      actions: ['s3:GetObject', 's3:GetObjectVersion', 's3:GetObjectAttributes', 's3:GetObjectTagging'],
      resourceArns: [this.bucket.arnForObjects('*')],
    });
    grantee.grantPrincipal.addToPrincipalPolicy(new iam.PolicyStatement({
      actions: ['kms:Decrypt'],
      resources: [this.encryptionKey.keyArn],
      conditions: { StringEquals: { 'kms:ViaService': `s3.${region}.amazonaws.com` } },
    }));
  }

  public grantWriteUnder(grantee: iam.IGrantable, keyPattern: string): void {
    const region = Stack.of(this).region;
    iam.Grant.addToPrincipal({
      grantee,
      actions: ['s3:PutObject', 's3:AbortMultipartUpload'],
      resourceArns: [this.bucket.arnForObjects(keyPattern)],
    });
    grantee.grantPrincipal.addToPrincipalPolicy(new iam.PolicyStatement({
      actions: ['kms:GenerateDataKey', 'kms:Decrypt'],
      resources: [this.encryptionKey.keyArn],
      conditions: { StringEquals: { 'kms:ViaService': `s3.${region}.amazonaws.com` } },
    }));
  }

  public grantPrune(grantee: iam.IGrantable): void {
    const region = Stack.of(this).region;
    const blobs = this.bucket.arnForObjects(`${naming.BLOBS_PREFIX}*`);
    iam.Grant.addToPrincipal({
      grantee,
      actions: ['s3:ListBucket', 's3:ListBucketVersions'],
      resourceArns: [this.bucket.bucketArn],
      conditions: { StringLike: { 's3:prefix': [`${naming.NIGHTS_PREFIX}*`, `${naming.BLOBS_PREFIX}*`] } },
    });
    iam.Grant.addToPrincipal({ grantee, actions: ['s3:GetObject'], resourceArns: [this.bucket.arnForObjects(`${naming.NIGHTS_PREFIX}*`)] });
    // HeadObject needs s3:GetObject; it returns the retain-until date only with s3:GetObjectRetention (docs/aws.md "Prune").
    // Versions only (prune deletes each VersionId): no s3:DeleteObject, so prune can never place a delete marker,
    // and every delete it makes is one Object Lock checks.
    iam.Grant.addToPrincipal({ grantee, actions: ['s3:GetObject', 's3:GetObjectRetention', 's3:DeleteObjectVersion'], resourceArns: [blobs] });
    grantee.grantPrincipal.addToPrincipalPolicy(new iam.PolicyStatement({
      actions: ['kms:Decrypt'],
      resources: [this.encryptionKey.keyArn],
      conditions: { StringEquals: { 'kms:ViaService': `s3.${region}.amazonaws.com` } },
    }));
  }

  public grantReadUnder(grantee: iam.IGrantable, keyPattern = '*'): void {
    const region = Stack.of(this).region;
    iam.Grant.addToPrincipal({ grantee, actions: ['s3:ListBucket'], resourceArns: [this.bucket.bucketArn] });
    iam.Grant.addToPrincipal({ grantee, actions: ['s3:GetObject'], resourceArns: [this.bucket.arnForObjects(keyPattern)] });
    grantee.grantPrincipal.addToPrincipalPolicy(new iam.PolicyStatement({
      actions: ['kms:Decrypt'],
      resources: [this.encryptionKey.keyArn],
      conditions: { StringEquals: { 'kms:ViaService': `s3.${region}.amazonaws.com` } },
    }));
  }
}

/** Properties of an {@link ImmutableExportBucket}. */
export interface ImmutableExportBucketProps {
  /**
   * The bucket's name. Counterparties find the bucket by name, so in a
   * Counterparty deployment use `naming.exportBucketName(plan)`.
   * @default - a CloudFormation-generated name
   */
  readonly bucketName?: string;
  /**
   * How long every object version is locked (S3 Object Lock default retention),
   * and after how long noncurrent versions expire. 1 to 36500 whole days.
   */
  readonly retention: Duration;
  /**
   * Object Lock mode. `compliance` cannot be undone or shortened by anyone,
   * including the account root: pass it only from an explicit opt-in
   * (a resolved plan's `immutability.mode`).
   * @default 'governance'
   */
  readonly mode?: ObjectLockMode;
  /**
   * Required with \`mode: 'compliance'\`: the explicit opt-in the plan asks for
   * (\`immutability.acknowledgeComplianceIsIrreversible\`). Compliance mode cannot
   * be undone or shortened by anyone, so it is never the result of a typo alone.
   * @default false
   */
  readonly acknowledgeComplianceIsIrreversible?: boolean;
  /**
   * Alias of the bucket's KMS key (created here). Ignored when `encryptionKey` is given.
   * @default - no alias
   */
  readonly keyAlias?: string;
  /**
   * The customer-managed key to encrypt with.
   * @default - a new {@link ProtectedKey} (rotation on, RETAIN, deletion denied; STRICT in compliance mode)
   */
  readonly encryptionKey?: kms.IKey;
  /**
   * The break-glass principals (IAM role or root ARNs): the only ones still
   * allowed to delete or disable the created key in governance mode, and the
   * only ones the bucket policy lets bypass governance retention or change
   * retention, legal holds or the bucket's Object Lock configuration.
   * Include the CloudFormation execution role if deployments should be able
   * to change the Object Lock default retention.
   * @default - the account root user
   */
  readonly breakGlassPrincipalArns?: string[];
  /**
   * Principals allowed to delete object versions or place delete markers by
   * API (for example a role that runs `prune`). Nothing in the nightly export
   * deletes: lifecycle expiry needs no permission, and format v2 never
   * overwrites. Everyone else is denied `s3:DeleteObject` and
   * `s3:DeleteObjectVersion`, so a blob whose lock has expired but that a
   * retained night still references cannot be deleted either.
   * @default - the break-glass principals only
   */
  readonly deletionPrincipalArns?: string[];
  /**
   * Principals allowed to delete object versions under `blobs/sha256/` only
   * (the role that runs `prune`; {@link ImmutableExportBucket.grantPrune} adds
   * its role here). The bucket policy denies them deletes anywhere else, even
   * if they are also in `deletionPrincipalArns`.
   * @default - none
   */
  readonly blobDeletionPrincipalArns?: string[];
  /**
   * The bucket that receives this bucket's server access logs (it cannot be
   * this bucket: an Object Lock bucket cannot log to itself).
   * @default - a new log bucket (SSE-S3, versioned, BPA, TLS-only, RETAIN)
   */
  readonly accessLogBucket?: s3.IBucket;
  /**
   * Name of the created access log bucket. Ignored when `accessLogBucket` is given.
   * @default - a CloudFormation-generated name
   */
  readonly accessLogBucketName?: string;
  /**
   * Days server access logs are kept in the created log bucket.
   * @default - the longer of `retention` and 365 days
   */
  readonly accessLogRetention?: Duration;
  /**
   * Key prefixes whose current versions expire after `retention` plus
   * `naming.NIGHTS_EXPIRY_EXTRA_DAYS` (a night's index may rest on a checkpoint
   * up to 6 nights older). Other
   * prefixes (the `objects/` mirror of source buckets, overwritten only when a
   * source object changes) keep their current versions; their noncurrent
   * versions still expire after `retention`.
   * @default [naming.NIGHTS_PREFIX]
   */
  readonly expireCurrentVersionsUnder?: string[];
}

/**
 * The immutable, portable export bucket every counterparty reads: S3 Object
 * Lock (governance by default) with a default retention, versioning, SSE-KMS
 * under a protected customer key with rotation, block public access, TLS-only,
 * a lifecycle that expires versions after the retention, server access logs
 * to a separate bucket, and `RemovalPolicy.RETAIN` on all of it.
 */
export class ImmutableExportBucket extends ExportBucketBase {
  /** Imports an export bucket (and its key) created elsewhere. */
  public static fromExportBucketAttributes(scope: Construct, id: string, attrs: ImmutableExportBucketAttributes): IImmutableExportBucket {
    class Imported extends ExportBucketBase {
      public readonly bucket: s3.IBucket;
      public readonly encryptionKey: kms.IKey;
      constructor() {
        super(scope, id);
        this.encryptionKey = kms.Key.fromKeyArn(this, 'Key', attrs.encryptionKeyArn);
        this.bucket = s3.Bucket.fromBucketAttributes(this, 'Bucket', { bucketName: attrs.bucketName, encryptionKey: this.encryptionKey });
      }
    }
    return new Imported();
  }

  /** The export bucket. */
  public readonly bucket: s3.Bucket;
  /** Its encryption key. */
  public readonly encryptionKey: kms.IKey;
  /** The bucket its server access logs go to. */
  public readonly accessLogBucket: s3.IBucket;
  /** The Object Lock mode in force. */
  public readonly mode: ObjectLockMode;
  /** The Object Lock default retention in days. */
  public readonly retentionDays: number;
  /** The principals the bucket policy still lets bypass or change Object Lock. */
  public readonly breakGlassPrincipalArns: readonly string[];
  /** Principals the bucket policy lets delete under `blobs/sha256/` only (prune). */
  private readonly blobDeleters: string[] = [];
  private blobDeletersOnly?: iam.PolicyStatement;

  constructor(scope: Construct, id: string, props: ImmutableExportBucketProps) {
    super(scope, id);
    // Deliver access logs through a bucket policy (not the LogDeliveryWrite ACL), whatever the app's feature flags:
    // ACLs are disabled on both buckets (BucketOwnerEnforced).
    this.node.setContext('@aws-cdk/aws-s3:serverAccessLogsUseBucketPolicy', true);
    const days = props.retention.toDays({ integral: false });
    if (!Number.isInteger(days) || days < 1 || days > 36500) {
      throw new Error(`${this.node.path}: retention is ${days} days; S3 Object Lock default retention must be 1 to 36500 whole days. Fix: pass Duration.days(n) with n in that range (the plan's retentionDays).`);
    }
    const mode = props.mode ?? 'governance';
    if (mode !== 'governance' && mode !== 'compliance') {
      throw new Error(`${this.node.path}: mode is ${JSON.stringify(mode)}; it must be "governance" or "compliance". Fix: use "governance" unless the plan explicitly opted into compliance.`);
    }
    if (mode === 'compliance' && props.acknowledgeComplianceIsIrreversible !== true) {
      throw new Error(`${this.node.path}: mode is "compliance" and acknowledgeComplianceIsIrreversible is not true. S3 Object Lock in compliance mode is irreversible: no one, not even the account root, can shorten retention or delete locked copies. `
        + 'Fix: set acknowledgeComplianceIsIrreversible: true after reading README "Irreversible opt-ins" (PrimarySite passes the plan\'s immutability.acknowledgeComplianceIsIrreversible), or use mode "governance".');
    }
    if (props.bucketName !== undefined) {
      const why = naming.nameRuleViolation(props.bucketName, naming.NAME_RULES.s3Bucket);
      if (why) throw new Error(`${this.node.path}: bucketName: ${why}. Fix: use naming.exportBucketName(plan), or a valid name.`);
    }
    this.mode = mode;
    this.retentionDays = days;

    this.encryptionKey = props.encryptionKey ?? new ProtectedKey(this, 'Key', {
      alias: props.keyAlias,
      description: `Encrypts the immutable export bucket${props.bucketName ? ` ${props.bucketName}` : ''}`,
      deletionProtection: mode === 'compliance' ? KeyDeletionProtection.STRICT : KeyDeletionProtection.BREAK_GLASS,
      breakGlassPrincipalArns: props.breakGlassPrincipalArns,
    }).key;

    const logDays = props.accessLogRetention?.toDays() ?? Math.max(days, 365);
    this.accessLogBucket = props.accessLogBucket ?? new s3.Bucket(this, 'AccessLogs', {
      bucketName: props.accessLogBucketName,
      // S3 server access logs can only be delivered to SSE-S3 buckets.
      encryption: s3.BucketEncryption.S3_MANAGED,
      versioned: true,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      removalPolicy: RemovalPolicy.RETAIN,
      lifecycleRules: [{
        id: 'expire-access-logs',
        expiration: Duration.days(logDays),
        noncurrentVersionExpiration: Duration.days(1),
        abortIncompleteMultipartUploadAfter: Duration.days(7),
      }],
    });

    const retention = mode === 'compliance' ? s3.ObjectLockRetention.compliance(Duration.days(days)) : s3.ObjectLockRetention.governance(Duration.days(days));
    const expiring = props.expireCurrentVersionsUnder ?? [naming.NIGHTS_PREFIX];
    this.bucket = new s3.Bucket(this, 'Bucket', {
      bucketName: props.bucketName,
      objectLockEnabled: true,
      objectLockDefaultRetention: retention,
      versioned: true,
      encryption: s3.BucketEncryption.KMS,
      encryptionKey: this.encryptionKey,
      bucketKeyEnabled: true,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      minimumTLSVersion: 1.2,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      serverAccessLogsBucket: this.accessLogBucket,
      serverAccessLogsPrefix: `${props.bucketName ?? id}/`,
      removalPolicy: RemovalPolicy.RETAIN,
      lifecycleRules: [
        // Every version that is no longer current goes after the retention (Object Lock has released it by then).
        { id: 'expire-noncurrent-after-retention', noncurrentVersionExpiration: Duration.days(days), abortIncompleteMultipartUploadAfter: Duration.days(7) },
        // Nightly exports (and anything else outside the mirror prefixes) expire after the retention.
        // Format v2: a night's index may rest on a checkpoint up to 6 nights older, so nights/ outlive the
        // retention by naming.NIGHTS_EXPIRY_EXTRA_DAYS (docs/runtime.md "Retention note"; the same rule on every site).
        ...expiring.map((prefix, i) => ({ id: `expire-current-after-retention-${i}`, prefix, expiration: Duration.days(days + naming.NIGHTS_EXPIRY_EXTRA_DAYS) })),
        { id: 'remove-expired-delete-markers', expiredObjectDeleteMarker: true },
      ],
    });
    // Object deletions reach EventBridge (TamperAlarm's objectDeletionBucketNames) without a CloudTrail data-event trail.
    // Set on the CloudFormation resource itself: the L2's eventBridgeEnabled adds a Lambda-backed custom resource.
    (this.bucket.node.defaultChild as s3.CfnBucket).addPropertyOverride('NotificationConfiguration.EventBridgeConfiguration.EventBridgeEnabled', true);
    this.breakGlassPrincipalArns = props.breakGlassPrincipalArns ?? [Stack.of(this).formatArn({ service: 'iam', region: '', resource: 'root' })];
    // Governance mode is only as strong as the right to bypass it: nobody but the break-glass principals may.
    this.bucket.addToResourcePolicy(new iam.PolicyStatement({
      sid: 'DenyLockBypassExceptBreakGlass',
      effect: iam.Effect.DENY,
      principals: [new iam.AnyPrincipal()],
      actions: [...LOCK_CHANGING_ACTIONS],
      resources: [this.bucket.bucketArn, this.bucket.arnForObjects('*')],
      conditions: { ArnNotEquals: { 'aws:PrincipalArn': this.breakGlassPrincipalArns } },
    }));
    // Append-only: nothing in the export deletes by API but prune, under blobs/sha256/ only (TamperAlarm alarms on deletions elsewhere).
    const deleters = props.deletionPrincipalArns ?? [...this.breakGlassPrincipalArns];
    this.bucket.addToResourcePolicy(new iam.PolicyStatement({
      sid: 'DenyDeletesExceptAllowed',
      effect: iam.Effect.DENY,
      principals: [new iam.AnyPrincipal()],
      actions: [...DELETE_ACTIONS],
      resources: [this.bucket.arnForObjects('*')],
      conditions: { ArnNotEquals: { 'aws:PrincipalArn': Lazy.list({ produce: () => [...deleters, ...this.blobDeleters] }) } },
    }));
    for (const arn of props.blobDeletionPrincipalArns ?? []) this.allowBlobDeletion(arn);
  }

  /** Prune's IAM grant ({@link IImmutableExportBucket.grantPrune}) plus the bucket policy's leave to delete under `blobs/sha256/` for a role. */
  public grantPrune(grantee: iam.IGrantable): void {
    super.grantPrune(grantee);
    const principal = grantee.grantPrincipal as Partial<iam.IRole>;
    if (typeof principal.roleArn !== 'string') {
      throw new Error(`${this.node.path}: grantPrune was given a principal that is not an IAM role; the bucket policy names prune's role by aws:PrincipalArn. Fix: pass the prune task's role (e.g. taskDefinition.taskRole).`);
    }
    this.allowBlobDeletion(principal.roleArn);
  }

  /**
   * Lets `principalArn` (a role or root ARN) delete object versions under
   * `blobs/sha256/`, and denies it deletes anywhere else in the bucket.
   */
  public allowBlobDeletion(principalArn: string): void {
    this.blobDeleters.push(principalArn);
    if (this.blobDeletersOnly) return;
    this.blobDeletersOnly = new iam.PolicyStatement({
      sid: 'DenyBlobDeletersOutsideBlobs',
      effect: iam.Effect.DENY,
      principals: [new iam.AnyPrincipal()],
      actions: [...DELETE_ACTIONS],
      notResources: [this.bucket.arnForObjects(`${naming.BLOBS_PREFIX}*`)],
      conditions: { ArnEquals: { 'aws:PrincipalArn': Lazy.list({ produce: () => [...this.blobDeleters] }) } },
    });
    this.bucket.addToResourcePolicy(this.blobDeletersOnly);
  }
}

/** The S3 actions that delete an object version or hide it behind a delete marker. */
export const DELETE_ACTIONS = ['s3:DeleteObject', 's3:DeleteObjectVersion'] as const;

/** The S3 actions that shorten, lift or bypass Object Lock; the export bucket policy denies them to all but the break-glass principals. */
export const LOCK_CHANGING_ACTIONS = ['s3:BypassGovernanceRetention', 's3:PutObjectRetention', 's3:PutObjectLegalHold', 's3:PutBucketObjectLockConfiguration'] as const;
