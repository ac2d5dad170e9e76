import { Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as cloudtrail from 'aws-cdk-lib/aws-cloudtrail';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';

/** Properties of a {@link ManagementEventsTrail}. */
export interface ManagementEventsTrailProps {
  /** The key the trail's log files are encrypted with (CloudTrail is granted its use). */
  readonly encryptionKey: kms.IKey;
  /**
   * Days log files are kept.
   * @default Duration.days(365)
   */
  readonly retention?: Duration;
  /**
   * The bucket that receives the trail bucket's server access logs.
   * @default - no server access logs
   */
  readonly accessLogBucket?: s3.IBucket;
}

/**
 * A multi-region CloudTrail trail of the account's management events (read
 * and write), with log file validation, SSE-KMS, into its own versioned,
 * TLS-only, private, SSE-KMS bucket (server access logs optional). No
 * CloudWatch Logs delivery: EventBridge receives the events without it. EventBridge receives "AWS API Call via CloudTrail"
 * events, which the tamper alarm's rules match, only while some trail logs
 * management events: create this one unless the account or its organization
 * already has one.
 */
export class ManagementEventsTrail extends Construct {
  /** The trail. */
  public readonly trail: cloudtrail.Trail;
  /** Its bucket. */
  public readonly bucket: s3.Bucket;

  constructor(scope: Construct, id: string, props: ManagementEventsTrailProps) {
    super(scope, id);
    const days = props.retention?.toDays() ?? 365;
    this.node.setContext('@aws-cdk/aws-s3:serverAccessLogsUseBucketPolicy', true);
    this.bucket = new s3.Bucket(this, 'Bucket', {
      encryption: s3.BucketEncryption.KMS,
      encryptionKey: props.encryptionKey,
      bucketKeyEnabled: true,
      serverAccessLogsBucket: props.accessLogBucket,
      serverAccessLogsPrefix: props.accessLogBucket ? 'management-events-trail/' : undefined,
      versioned: true,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      removalPolicy: RemovalPolicy.RETAIN,
      lifecycleRules: [{ id: 'expire-trail-logs', expiration: Duration.days(days), noncurrentVersionExpiration: Duration.days(1) }],
    });
    const stack = Stack.of(this);
    props.encryptionKey.addToResourcePolicy(new iam.PolicyStatement({
      sid: 'AllowCloudTrailToEncryptLogs',
      principals: [new iam.ServicePrincipal('cloudtrail.amazonaws.com')],
      actions: ['kms:GenerateDataKey*', 'kms:DescribeKey'],
      resources: ['*'],
      conditions: { StringLike: { 'kms:EncryptionContext:aws:cloudtrail:arn': stack.formatArn({ service: 'cloudtrail', region: '*', resource: 'trail', resourceName: '*' }) } },
    }));
    this.trail = new cloudtrail.Trail(this, 'Trail', {
      bucket: this.bucket,
      encryptionKey: props.encryptionKey,
      isMultiRegionTrail: true,
      includeGlobalServiceEvents: true,
      enableFileValidation: true,
      managementEvents: cloudtrail.ReadWriteType.ALL,
    });
  }
}
