import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as cwActions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subs from 'aws-cdk-lib/aws-sns-subscriptions';
import { Construct } from 'constructs';

/** CloudWatch: period × evaluation periods may not exceed 7 days for periods of an hour or more. */
export const MAX_ALARM_WINDOW_HOURS = 168;

/** Properties of {@link FreshnessAlarms}. */
export interface FreshnessAlarmsProps {
  /** The nightly export state machine whose executions are watched. */
  readonly stateMachine: sfn.IStateMachine;
  /**
   * Alarm when no execution has succeeded for this long: the plan's
   * `rpoHours + alarmGraceHours`. Whole hours, 1 to 168 (CloudWatch evaluates
   * at most 7 days).
   */
  readonly window: Duration;
  /**
   * The topic alarms notify.
   * @default - a new KMS-encrypted, TLS-only topic
   */
  readonly topic?: sns.ITopic;
  /**
   * The key of the created topic. Ignored when `topic` is given. CloudWatch is
   * granted use of it so alarms can publish.
   * @default - a new key (rotation on, RETAIN); the AWS-managed `alias/aws/sns` key cannot be used, since CloudWatch may not publish with it
   */
  readonly topicKey?: kms.IKey;
  /**
   * E-mail addresses subscribed to the created topic.
   * @default []
   */
  readonly emails?: readonly string[];
}

/**
 * Two alarms on the nightly export: "no successful night within RPO + grace"
 * (missing data counts as breaching, so a schedule that never fires alarms
 * too) and "a night failed, timed out or was aborted", both to an SNS topic.
 */
export class FreshnessAlarms extends Construct {
  /** The topic both alarms notify. */
  public readonly topic: sns.ITopic;
  /** Fires when no execution succeeded within the window. */
  public readonly staleAlarm: cloudwatch.Alarm;
  /** Fires on any failed, timed-out or aborted execution. */
  public readonly failedAlarm: cloudwatch.Alarm;

  constructor(scope: Construct, id: string, props: FreshnessAlarmsProps) {
    super(scope, id);
    const hours = props.window.toHours({ integral: false });
    if (!Number.isInteger(hours) || hours < 1 || hours > MAX_ALARM_WINDOW_HOURS) {
      throw new Error(`${this.node.path}: window is ${hours} hours; it must be 1 to ${MAX_ALARM_WINDOW_HOURS} whole hours, because CloudWatch evaluates an alarm over at most 7 days (period × evaluation periods ≤ 604800 s). Fix: lower rpoHours + alarmGraceHours in the plan to 168 or less (run the schedule more often).`);
    }
    for (const email of props.emails ?? []) {
      if (!/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(email)) throw new Error(`${this.node.path}: emails contains ${JSON.stringify(email)}, which is not an e-mail address. Fix: give addresses such as "oncall@example.com".`);
    }
    if (props.topic) {
      this.topic = props.topic;
    } else {
      const key = props.topicKey ?? new kms.Key(this, 'TopicKey', {
        description: 'Encrypts the Counterparty freshness alarm topic',
        enableKeyRotation: true,
        removalPolicy: RemovalPolicy.RETAIN,
      });
      // CloudWatch alarms publish to an encrypted topic only if they may use its key.
      key.addToResourcePolicy(new iam.PolicyStatement({
        sid: 'AllowCloudWatchAlarmsToPublish',
        principals: [new iam.ServicePrincipal('cloudwatch.amazonaws.com')],
        actions: ['kms:Decrypt', 'kms:GenerateDataKey*'],
        resources: ['*'],
      }));
      key.addToResourcePolicy(new iam.PolicyStatement({
        sid: 'DenyGrantsNotForAwsResources',
        effect: iam.Effect.DENY,
        principals: [new iam.AnyPrincipal()],
        actions: ['kms:CreateGrant'],
        resources: ['*'],
        conditions: { BoolIfExists: { 'kms:GrantIsForAWSResource': 'false' } },
      }));
      const topic = new sns.Topic(this, 'Topic', { masterKey: key, enforceSSL: true, displayName: 'Counterparty nightly export alarms' });
      for (const email of props.emails ?? []) topic.addSubscription(new subs.EmailSubscription(email));
      this.topic = topic;
    }
    const sm = props.stateMachine;
    this.staleAlarm = new cloudwatch.Alarm(this, 'NoSuccessfulNight', {
      alarmDescription: `No nightly export succeeded in the last ${hours} hours (RPO + grace).`,
      metric: sm.metricSucceeded({ period: Duration.hours(1), statistic: 'Sum' }),
      threshold: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
      evaluationPeriods: hours,
      datapointsToAlarm: hours,
      treatMissingData: cloudwatch.TreatMissingData.BREACHING,
    });
    const failures = failedExecutions(sm);
    this.failedAlarm = new cloudwatch.Alarm(this, 'NightFailed', {
      alarmDescription: 'A nightly export execution failed, timed out or was aborted.',
      metric: failures,
      threshold: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      evaluationPeriods: 1,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    for (const alarm of [this.staleAlarm, this.failedAlarm]) {
      alarm.addAlarmAction(new cwActions.SnsAction(this.topic));
      alarm.addOkAction(new cwActions.SnsAction(this.topic));
    }
  }

  /** Also alarm (on the same topic) when an execution of another state machine fails, times out or is aborted. */
  public watch(stateMachine: sfn.IStateMachine, id: string): cloudwatch.Alarm {
    const alarm = new cloudwatch.Alarm(this, `${id}Failed`, {
      alarmDescription: `A ${id} execution failed, timed out or was aborted.`,
      metric: failedExecutions(stateMachine),
      threshold: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      evaluationPeriods: 1,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    alarm.addAlarmAction(new cwActions.SnsAction(this.topic));
    alarm.addOkAction(new cwActions.SnsAction(this.topic));
    return alarm;
  }
}

/** Failed + timed-out + aborted executions of a state machine, per 5 minutes. */
function failedExecutions(sm: sfn.IStateMachine): cloudwatch.MathExpression {
  return new cloudwatch.MathExpression({
    expression: 'FILL(failed, 0) + FILL(timedOut, 0) + FILL(aborted, 0)',
    usingMetrics: {
      failed: sm.metricFailed({ statistic: 'Sum' }),
      timedOut: sm.metricTimedOut({ statistic: 'Sum' }),
      aborted: sm.metricAborted({ statistic: 'Sum' }),
    },
    period: Duration.minutes(5),
    label: 'Failed, timed-out and aborted executions',
  });
}
