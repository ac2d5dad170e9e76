import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';

/** The AWS Backup job states that mean a recovery point was not made (or not copied). */
export const FAILED_BACKUP_JOB_STATES = ['FAILED', 'ABORTED', 'EXPIRED'] as const;

/** The AWS Backup EventBridge detail type of backup jobs. */
export const BACKUP_JOB_DETAIL_TYPE = 'Backup Job State Change';
/** The AWS Backup EventBridge detail type of copy jobs. */
export const COPY_JOB_DETAIL_TYPE = 'Copy Job State Change';

/** Properties of a {@link BackupJobAlarm}. */
export interface BackupJobAlarmProps {
  /** The topic notified on every failed, aborted or expired job. */
  readonly topic: sns.ITopic;
  /**
   * Only backup jobs into these vaults alarm. (Copy jobs carry their source and
   * destination vault ARNs instead of a vault name, so every failed copy job
   * of the account and region alarms: better a neighbour's alarm than a silent
   * failed copy.)
   * @default - backup jobs into any vault of the account and region
   */
  readonly backupVaultNames?: readonly string[];
}

/**
 * Alarms on AWS Backup jobs that did not make their recovery point (or its
 * copy): EventBridge rules on AWS Backup's own "Backup Job State Change" and
 * "Copy Job State Change" events (no CloudTrail needed) in state FAILED,
 * ABORTED or EXPIRED, notifying the topic. AWS Backup sends these events
 * best-effort, about every 5 minutes.
 */
export class BackupJobAlarm extends Construct {
  /** The rule on backup jobs. */
  public readonly rule: events.Rule;
  /** The rule on copy jobs. */
  public readonly copyJobRule: events.Rule;

  constructor(scope: Construct, id: string, props: BackupJobAlarmProps) {
    super(scope, id);
    const vaults = props.backupVaultNames ?? [];
    const target = new targets.SnsTopic(props.topic);
    this.rule = new events.Rule(this, 'Rule', {
      description: 'Counterparty: an AWS Backup backup job failed, was aborted or expired',
      eventPattern: {
        source: ['aws.backup'],
        detailType: [BACKUP_JOB_DETAIL_TYPE],
        detail: { state: [...FAILED_BACKUP_JOB_STATES], ...(vaults.length > 0 ? { backupVaultName: [...vaults] } : {}) },
      },
      targets: [target],
    });
    this.copyJobRule = new events.Rule(this, 'CopyJobRule', {
      description: 'Counterparty: an AWS Backup copy job failed, was aborted or expired',
      eventPattern: { source: ['aws.backup'], detailType: [COPY_JOB_DETAIL_TYPE], detail: { state: [...FAILED_BACKUP_JOB_STATES] } },
      targets: [target],
    });
  }
}
