/**
 * Freshness and failure alerts:
 * - a log-based metric counting the verifier's success line
 *   `{"event":"counterparty.verify","result":"success"}` (Cloud Run parses JSON
 *   stdout into `jsonPayload`), and an absence alert when no success was logged
 *   within RPO + grace. Cloud Monitoring's metric-absence condition is capped at
 *   23.5 h, so longer windows use a PromQL `absent_over_time` condition on the
 *   same metric;
 * - a log-match alert on the Storage Transfer Service's FAILED actions (logged
 *   at severity ERROR by the job's `loggingConfig`).
 * Both notify the plan's channels, or one e-mail channel per plan address.
 */
import { Construct } from 'constructs';
import { LoggingMetric } from '@cdktf/provider-google/lib/logging-metric';
import { MonitoringAlertPolicy, type MonitoringAlertPolicyConditions } from '@cdktf/provider-google/lib/monitoring-alert-policy';
import { MonitoringNotificationChannel } from '@cdktf/provider-google/lib/monitoring-notification-channel';
import { invalid } from './common';

/** Longest duration a Cloud Monitoring metric-absence condition accepts (23.5 h). */
export const MAX_ABSENCE_SECONDS = 84_600;

export interface FreshnessAlertsProps {
  /** The GCP project ID. */
  readonly projectId: string;
  /** The log-based metric's name (letters, digits and `_`). */
  readonly metricName: string;
  /** The verifier's Cloud Run job name. */
  readonly verifyJobName: string;
  /** Alert when no verified night has been logged for this many hours (RPO + grace). */
  readonly freshnessHours: number;
  /**
   * Alert on Storage Transfer Service failures.
   * @default true
   */
  readonly alertOnTransferFailure?: boolean;
  /**
   * Existing notification channel IDs (`projects/<p>/notificationChannels/<id>`).
   * @default - one e-mail channel per address in `emails`
   */
  readonly notificationChannels?: readonly string[];
  /**
   * E-mail addresses to create channels for, when `notificationChannels` is not given.
   * @default []
   */
  readonly emails?: readonly string[];
  /**
   * Refuse to synthesize alerts that notify no one. The composed `GcpCounterparty` turns this off and
   * gives a synth warning instead, because a plan without addresses is valid.
   * @default true
   */
  readonly requireChannels?: boolean;
  /**
   * Prefix of the policies' display names.
   * @default 'Counterparty'
   */
  readonly displayNamePrefix?: string;
}

/** Log-based verify-success metric + absence alert over RPO+grace + transfer-failure alert, to the plan's channels. */
export class FreshnessAlerts extends Construct {
  public readonly metric: LoggingMetric;
  public readonly freshnessPolicy: MonitoringAlertPolicy;
  public readonly transferFailurePolicy?: MonitoringAlertPolicy;
  public readonly channels: string[];

  constructor(scope: Construct, id: string, props: FreshnessAlertsProps) {
    super(scope, id);
    if (!/^[A-Za-z0-9_]{1,100}$/.test(props.metricName)) invalid(this, 'metricName', props.metricName, 'must be letters, digits and underscores only (it is also a PromQL name).', 'replace hyphens with underscores.');
    if (!Number.isInteger(props.freshnessHours) || props.freshnessHours < 1) invalid(this, 'freshnessHours', props.freshnessHours, 'must be a whole number of hours, at least 1.', 'give rpoHours + alarmGraceHours.');
    const prefix = props.displayNamePrefix ?? 'Counterparty';

    this.channels = props.notificationChannels ? [...props.notificationChannels]
      : (props.emails ?? []).map((email, i) => new MonitoringNotificationChannel(this, `Email${i}`, {
        project: props.projectId, type: 'email', displayName: `${prefix} on-call ${email}`, labels: { email_address: email },
      }).id);
    if (this.channels.length === 0 && (props.requireChannels ?? true)) {
      invalid(this, 'notificationChannels', props.notificationChannels, 'and emails are both empty: the alerts would notify no one.', 'give notification channel IDs (plan counterparties.gcp.notificationChannels) or e-mail addresses (plan notifications.emails).');
    }

    this.metric = new LoggingMetric(this, 'VerifySuccess', {
      project: props.projectId,
      name: props.metricName,
      description: 'Successful nightly verifications of the vault (counterparty.verify success log lines).',
      filter: [
        'resource.type="cloud_run_job"',
        `resource.labels.job_name="${props.verifyJobName}"`,
        'jsonPayload.event="counterparty.verify"',
        'jsonPayload.result="success"',
      ].join(' AND '),
      metricDescriptor: { metricKind: 'DELTA', valueType: 'INT64', unit: '1', displayName: 'Counterparty verified nights' },
    });

    const seconds = props.freshnessHours * 3600;
    const condition: MonitoringAlertPolicyConditions = seconds <= MAX_ABSENCE_SECONDS
      ? {
        displayName: `No verified night for ${props.freshnessHours} h`,
        conditionAbsent: {
          filter: `metric.type="logging.googleapis.com/user/${props.metricName}" AND resource.type="cloud_run_job"`,
          duration: `${seconds}s`,
          aggregations: [{ alignmentPeriod: '300s', perSeriesAligner: 'ALIGN_COUNT' }],
        },
      }
      : {
        displayName: `No verified night for ${props.freshnessHours} h`,
        conditionPrometheusQueryLanguage: {
          query: `absent_over_time(logging_googleapis_com:user_${props.metricName}{monitored_resource="cloud_run_job"}[${props.freshnessHours}h])`,
          duration: '0s',
          evaluationInterval: '300s',
        },
      };
    this.freshnessPolicy = new MonitoringAlertPolicy(this, 'FreshnessPolicy', {
      project: props.projectId,
      displayName: `${prefix}: no verified night within RPO + grace (${props.freshnessHours} h)`,
      combiner: 'OR',
      severity: 'CRITICAL',
      conditions: [condition],
      notificationChannels: this.channels,
      documentation: {
        mimeType: 'text/markdown',
        content: `No \`counterparty.verify\` success was logged by Cloud Run job \`${props.verifyJobName}\` for ${props.freshnessHours} hours. Check the Storage Transfer job's last operation and the job's last execution logs. See docs/gcp.md.`,
      },
    });

    if (props.alertOnTransferFailure ?? true) {
      this.transferFailurePolicy = new MonitoringAlertPolicy(this, 'TransferFailurePolicy', {
        project: props.projectId,
        displayName: `${prefix}: nightly transfer failed`,
        combiner: 'OR',
        severity: 'ERROR',
        conditions: [{
          displayName: 'Storage Transfer Service action failed',
          conditionMatchedLog: { filter: 'resource.type="storage_transfer_job" AND severity>=ERROR' },
        }],
        alertStrategy: { notificationRateLimit: { period: '3600s' }, autoClose: '86400s' },
        notificationChannels: this.channels,
        documentation: {
          mimeType: 'text/markdown',
          content: 'The nightly keyless pull from the primary logged a failed action. Check the transfer job\'s operations (`gcloud transfer operations list`) and the AWS reader role\'s trust (storage_transfer_subject_id).',
        },
      });
    }
  }
}
