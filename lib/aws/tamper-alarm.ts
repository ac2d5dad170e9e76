import { Stack } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';

/** Properties of {@link TamperAlarm}. */
export interface TamperAlarmProps {
  /** The topic notified on every matching call. */
  readonly topic: sns.ITopic;
  /**
   * The key the topic is encrypted with, if any: EventBridge rules of this account and region may use it to publish.
   * @default - the topic is not KMS-encrypted
   */
  readonly topicKey?: kms.IKey;
  /** Customer-managed keys whose deletion, disabling or policy change would defeat the locks above them. */
  readonly keys: readonly kms.IKey[];
  /**
   * AWS Backup vaults whose Vault Lock or access policy must not change unnoticed.
   * @default []
   */
  readonly backupVaultNames?: readonly string[];
  /**
   * S3 buckets whose Object Lock configuration, policy, encryption or lifecycle must not change unnoticed.
   * @default []
   */
  readonly bucketNames?: readonly string[];
  /**
   * AWS Backup plan IDs whose deletion or update, or the deletion of one of
   * their selections, must not go unnoticed.
   * @default []
   */
  readonly backupPlanIds?: readonly string[];
  /**
   * Buckets whose object deletions (a delete marker or a permanently deleted
   * version, by an API call; lifecycle expirations are not matched) alarm.
   * The buckets must send events to EventBridge (`eventBridgeEnabled`); no
   * CloudTrail trail is needed for these.
   * @default []
   */
  readonly objectDeletionBucketNames?: readonly string[];
  /**
   * A key prefix whose object deletions do NOT alarm (EventBridge
   * `anything-but` prefix on `detail.object.key`): `blobs/sha256/` when
   * `prune` runs on the bucket. Keep it meaningful: only a prefix that the
   * bucket policy lets nobody but prune delete under, whose deletions Object
   * Lock allows only after retention, and whose content the verifier re-reads.
   * Deletions anywhere else still alarm.
   * @default - every API deletion alarms
   */
  readonly objectDeletionExemptPrefix?: string;
}

/** The CloudTrail calls that can defeat a lock without deleting a single locked object. */
export const TAMPER_EVENTS = {
  kms: ['ScheduleKeyDeletion', 'DisableKey', 'PutKeyPolicy'],
  backup: ['DeleteBackupVaultLockConfiguration', 'PutBackupVaultLockConfiguration', 'PutBackupVaultAccessPolicy', 'DeleteBackupVaultAccessPolicy'],
  backupPlan: ['DeleteBackupPlan', 'UpdateBackupPlan', 'DeleteBackupSelection'],
  s3: [
    'PutObjectLockConfiguration', 'PutBucketPolicy', 'DeleteBucketPolicy', 'PutBucketLifecycle', 'PutBucketLifecycleConfiguration', 'DeleteBucketLifecycle',
    'PutBucketEncryption', 'DeleteBucketEncryption', 'PutBucketVersioning',
  ],
} as const;

/** The S3 EventBridge `reason` of a deletion by an API call (lifecycle expirations say `Lifecycle Expiration`). */
export const OBJECT_DELETION_REASON = 'DeleteObject';

/** The `detail` of the object-deletion rule: API deletions in the buckets, outside `exemptPrefix` if given. */
function objectDeletionDetail(bucketNames: readonly string[], exemptPrefix?: string): Record<string, unknown> {
  return {
    bucket: { name: [...bucketNames] },
    reason: [OBJECT_DELETION_REASON],
    ...(exemptPrefix !== undefined ? { object: { key: events.Match.anythingButPrefix(exemptPrefix) } } : {}),
  };
}

/**
 * Detection for the ways around the locks: a locked bucket or vault under a
 * customer-managed key is defeated by scheduling the key's deletion, and a
 * governance-mode lock by a privileged change. EventBridge rules match those
 * CloudTrail management events on exactly these keys, vaults and buckets and
 * notify the topic, so a scheduled key deletion can be cancelled within its
 * waiting period. The API-call rules need a CloudTrail trail logging management
 * events in the account (EventBridge receives "AWS API Call via CloudTrail"
 * events only then: `PrimarySite`'s `managementEventsTrail` creates one); the
 * object-deletion rule uses S3's own EventBridge events.
 */
export class TamperAlarm extends Construct {
  /** One rule per service. */
  public readonly rules: readonly events.Rule[];

  constructor(scope: Construct, id: string, props: TamperAlarmProps) {
    super(scope, id);
    if (props.keys.length === 0) {
      throw new Error(`${this.node.path}: keys is empty. Fix: pass the keys that protect the locked copies (the export and vault keys at least).`);
    }
    const target = new targets.SnsTopic(props.topic);
    const rule = (ruleId: string, description: string, source: string, eventSource: string, names: readonly string[], match: Record<string, unknown>) =>
      new events.Rule(this, ruleId, {
        description,
        eventPattern: {
          source: [source],
          detailType: ['AWS API Call via CloudTrail'],
          detail: { eventSource: [eventSource], eventName: [...names], ...match },
        },
        targets: [target],
      });
    const rules = [
      rule('KeyTampering', 'Counterparty: deletion, disabling or policy change of a key protecting locked copies', 'aws.kms', 'kms.amazonaws.com', TAMPER_EVENTS.kms,
        { resources: { ARN: props.keys.map((k) => k.keyArn) } }),
    ];
    if ((props.backupVaultNames ?? []).length > 0) {
      rules.push(rule('VaultLockTampering', 'Counterparty: change of a locked backup vault\'s lock or access policy', 'aws.backup', 'backup.amazonaws.com', TAMPER_EVENTS.backup,
        { requestParameters: { backupVaultName: [...props.backupVaultNames!] } }));
    }
    if ((props.bucketNames ?? []).length > 0) {
      rules.push(rule('BucketLockTampering', 'Counterparty: change of the export bucket\'s Object Lock, policy, encryption or lifecycle', 'aws.s3', 's3.amazonaws.com', TAMPER_EVENTS.s3,
        { requestParameters: { bucketName: [...props.bucketNames!] } }));
    }
    if ((props.backupPlanIds ?? []).length > 0) {
      rules.push(rule('BackupPlanTampering', 'Counterparty: deletion or update of the backup plan, or deletion of its selection', 'aws.backup', 'backup.amazonaws.com', TAMPER_EVENTS.backupPlan,
        { requestParameters: { backupPlanId: [...props.backupPlanIds!] } }));
    }
    if (props.objectDeletionExemptPrefix !== undefined && !/^[^*?]+\/$/.test(props.objectDeletionExemptPrefix)) {
      throw new Error(`${this.node.path}: objectDeletionExemptPrefix is ${JSON.stringify(props.objectDeletionExemptPrefix)}; it must be a literal key prefix ending in "/". Fix: pass naming.BLOBS_PREFIX ("blobs/sha256/") or leave it unset.`);
    }
    if ((props.objectDeletionBucketNames ?? []).length > 0) {
      rules.push(new events.Rule(this, 'ObjectDeletion', {
        description: 'Counterparty: an object version was deleted or hidden by a delete marker in the export bucket (by an API call, not by lifecycle)',
        eventPattern: {
          source: ['aws.s3'],
          detailType: ['Object Deleted'],
          detail: objectDeletionDetail(props.objectDeletionBucketNames!, props.objectDeletionExemptPrefix),
        },
        targets: [target],
      }));
    }
    this.rules = rules;
    if (props.topicKey) {
      props.topicKey.addToResourcePolicy(new iam.PolicyStatement({
        sid: 'AllowEventBridgeToPublishTamperAlarms',
        principals: [new iam.ServicePrincipal('events.amazonaws.com')],
        actions: ['kms:GenerateDataKey*', 'kms:Decrypt'],
        resources: ['*'],
        // The account's rules, not these rules' ARNs: the key-tampering rule names this key, so naming
        // the rules here would make the key and the rule depend on each other.
        conditions: { ArnLike: { 'aws:SourceArn': Stack.of(this).formatArn({ service: 'events', resource: 'rule', resourceName: '*' }) } },
      }));
    }
  }
}
