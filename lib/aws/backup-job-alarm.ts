import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';

/** The AWS Backup job states that mean a recovery point was not made (or not copied). */
export const FAILED_BACKUP_JOB_STATES = ['FAILED', 'ABORTED', 'EXPIRED'] as const;

/** The AWS Backup EventBridge detail types of backup and copy jobs. */
export const BACKUP_JOB_DETAIL_TYPES = ['Backup Job State Change', 'Copy Job State Change'] as const;

/** Properties of a {@link BackupJobAlarm}. */
export interface BackupJobAlarmProps {
  /** The topic notified on every failed, aborted or expired job. */
  readonly topic: sns.ITopic;
  /**
   * Only jobs into these vaults alarm.
   * @default - jobs into any vault of the account and region
   */
  readonly backupVaultNames?: readonly string[];
}

/**
 * Alarms on AWS Backup jobs that did not make their recovery point: an
 * EventBridge rule on AWS Backup's own "Backup Job State Change" and
 * "Copy Job State Change" events (no CloudTrail needed) in state FAILED,
 * ABORTED or EXPIRED, notifying the topic. AWS Backup sends these events
 * best-effort, about every 5 minutes.
 */
export class BackupJobAlarm extends Construct {
  /** The rule. */
  public readonly rule: events.Rule;

  constructor(scope: Construct, id: string, props: BackupJobAlarmProps) {
    super(scope, id);
    const vaults = props.backupVaultNames ?? [];
    this.rule = new events.Rule(this, 'Rule', {
      description: 'Counterparty: an AWS Backup backup or copy job failed, was aborted or expired',
      eventPattern: {
        source: ['aws.backup'],
        detailType: [...BACKUP_JOB_DETAIL_TYPES],
        detail: { state: [...FAILED_BACKUP_JOB_STATES], ...(vaults.length > 0 ? { backupVaultName: [...vaults] } : {}) },
      },
      targets: [new targets.SnsTopic(props.topic)],
    });
  }
}
