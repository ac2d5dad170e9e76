/**
 * The GCP counterparty's alerts, keyed on the runtime's result lines (docs/runtime.md "Log lines and
 * alert conditions"; Cloud Run parses JSON stdout into `jsonPayload`):
 *
 * | policy | condition |
 * | --- | --- |
 * | data age | a `counterparty.verify` or `counterparty.restore` line with `stale = true` (data older than RPO + grace, or none) |
 * | nothing reported | no `counterparty.verify` line, or no `counterparty.restore` line, within RPO + grace (and no `counterparty.mirror` line within 48 h, when the mirror is watched) |
 * | copy failure | Storage Transfer actions logged as FAILED (severity ERROR) |
 * | verify failure | a `counterparty.verify` line with `result = "failure"` |
 * | restore failure | a `counterparty.restore` line with `result = "failure"` |
 * | failed job executions | `run.googleapis.com/job/completed_execution_count` with `result = "failed"`, for every Cloud Run job of the counterparty (verify/restore, mirror, prune): a job killed before it could print still alerts |
 * | image presence | a `counterparty.mirror` line with `imagesMissing > 0` |
 *
 * The "nothing reported" windows use a metric-absence condition up to Cloud Monitoring's 23.5 h cap,
 * and a PromQL `absent_over_time` condition beyond it. All policies notify the plan's channels, or one
 * e-mail channel per plan address.
 */
import { Construct } from 'constructs';
import { LoggingMetric } from '@cdktf/provider-google/lib/logging-metric';
import { MonitoringAlertPolicy, type MonitoringAlertPolicyConditions } from '@cdktf/provider-google/lib/monitoring-alert-policy';
import { MonitoringNotificationChannel } from '@cdktf/provider-google/lib/monitoring-notification-channel';
import { invalid } from './common';

/** Longest duration a Cloud Monitoring metric-absence condition accepts (23.5 h). */
export const MAX_ABSENCE_SECONDS = 84_600;

/** How long the mirror may stay silent before "nothing reported" fires (two nightly runs). */
export const MIRROR_SILENCE_HOURS = 48;

/** The Cloud Run metric of finished job executions; its `result` label is `succeeded` or `failed`. */
export const JOB_EXECUTIONS_METRIC = 'run.googleapis.com/job/completed_execution_count';

export interface FreshnessAlertsProps {
  /** The GCP project ID. */
  readonly projectId: string;
  /** Base name of the log-based metrics (letters, digits and `_`); `_restore` and `_mirror` are appended for the others. */
  readonly metricName: string;
  /** The Cloud Run job that writes the `counterparty.verify` and `counterparty.restore` lines. */
  readonly verifyJobName: string;
  /** Alert when the data is older than this many hours, or nothing reported for as long (RPO + grace). */
  readonly freshnessHours: number;
  /**
   * Every Cloud Run job of the counterparty whose failed executions alert.
   * @default [verifyJobName]
   */
  readonly jobNames?: readonly string[];
  /**
   * The image-mirror job: its `imagesMissing > 0` lines and its silence alert.
   * @default - images are not watched
   */
  readonly mirrorJobName?: string;
  /**
   * Disable the verify/restore policies (data age, nothing reported, verify and restore failure). The composed
   * counterparty sets it while `mode` is `active`: the nightly verify-and-restore is paused then, so those
   * conditions would fire every night. Job-execution, transfer and image alerts stay on.
   * @default false
   */
  readonly verifyPaused?: boolean;
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

const jobLog = (jobName: string, ...clauses: string[]) => ['resource.type="cloud_run_job"', `resource.labels.job_name="${jobName}"`, ...clauses].join(' AND ');

/** A "no line within `hours`" condition on a log-based metric. */
function silence(metricName: string, hours: number, what: string): MonitoringAlertPolicyConditions {
  const seconds = hours * 3600;
  const displayName = `No ${what} line for ${hours} h`;
  if (seconds <= MAX_ABSENCE_SECONDS) {
    return {
      displayName,
      conditionAbsent: {
        filter: `metric.type="logging.googleapis.com/user/${metricName}" AND resource.type="cloud_run_job"`,
        duration: `${seconds}s`,
        aggregations: [{ alignmentPeriod: '300s', perSeriesAligner: 'ALIGN_COUNT' }],
      },
    };
  }
  return {
    displayName,
    conditionPrometheusQueryLanguage: {
      query: `absent_over_time(logging_googleapis_com:user_${metricName}{monitored_resource="cloud_run_job"}[${hours}h])`,
      duration: '0s',
      evaluationInterval: '300s',
    },
  };
}

/** Log-based metrics and the seven alert policies of docs/runtime.md, to the plan's channels. */
export class FreshnessAlerts extends Construct {
  /** Counts `counterparty.verify` result lines (any result). */
  public readonly metric: LoggingMetric;
  /** Counts `counterparty.restore` result lines (any result). */
  public readonly restoreMetric: LoggingMetric;
  public readonly mirrorMetric?: LoggingMetric;
  /** Data age: a stale verify or restore line. */
  public readonly freshnessPolicy: MonitoringAlertPolicy;
  /** Nothing reported within the window. */
  public readonly silencePolicy: MonitoringAlertPolicy;
  public readonly transferFailurePolicy?: MonitoringAlertPolicy;
  public readonly verifyFailurePolicy: MonitoringAlertPolicy;
  public readonly restoreFailurePolicy: MonitoringAlertPolicy;
  public readonly jobFailurePolicy: MonitoringAlertPolicy;
  public readonly imagePresencePolicy?: MonitoringAlertPolicy;
  public readonly channels: string[];
  private readonly props: FreshnessAlertsProps;

  constructor(scope: Construct, id: string, props: FreshnessAlertsProps) {
    super(scope, id);
    this.props = props;
    if (!/^[A-Za-z0-9_]{1,90}$/.test(props.metricName)) invalid(this, 'metricName', props.metricName, 'must be letters, digits and underscores only (it is also a PromQL name), at most 90.', 'replace hyphens with underscores.');
    if (!Number.isInteger(props.freshnessHours) || props.freshnessHours < 1) invalid(this, 'freshnessHours', props.freshnessHours, 'must be a whole number of hours, at least 1.', 'give rpoHours + alarmGraceHours.');
    const prefix = props.displayNamePrefix ?? 'Counterparty';
    this.channels = this.resolveChannels(prefix);

    const verifyJob = props.verifyJobName;
    this.metric = this.lineMetric('VerifySuccess', props.metricName, jobLog(verifyJob, 'jsonPayload.event="counterparty.verify"'), 'Counterparty verify result lines');
    this.restoreMetric = this.lineMetric('RestoreLines', `${props.metricName}_restore`, jobLog(verifyJob, 'jsonPayload.event="counterparty.restore"'), 'Counterparty restore result lines');
    if (props.mirrorJobName) {
      this.mirrorMetric = this.lineMetric('MirrorLines', `${props.metricName}_mirror`, jobLog(props.mirrorJobName, 'jsonPayload.event="counterparty.mirror"'), 'Counterparty image-mirror result lines');
    }

    const h = props.freshnessHours;
    const verifyOn = !(props.verifyPaused ?? false);
    this.freshnessPolicy = this.logMatch('FreshnessPolicy', `${prefix}: data older than RPO + grace (${h} h)`, 'CRITICAL',
      `resource.type="cloud_run_job" AND jsonPayload.event=("counterparty.verify" OR "counterparty.restore") AND jsonPayload.stale=true`,
      `A verify or restore run reported \`stale = true\`: the newest verified or restored night is older than ${h} hours (or there is none). The primary may be dark or the copy stuck. Run \`npm run status\` (docs/runtime.md) and check the transfer job.`, verifyOn);
    const conditions = [silence(props.metricName, h, 'counterparty.verify'), silence(`${props.metricName}_restore`, h, 'counterparty.restore')];
    if (this.mirrorMetric) conditions.push(silence(`${props.metricName}_mirror`, MIRROR_SILENCE_HOURS, 'counterparty.mirror'));
    this.silencePolicy = new MonitoringAlertPolicy(this, 'SilencePolicy', {
      project: props.projectId,
      displayName: `${prefix}: nothing reported within RPO + grace (${h} h)`,
      enabled: verifyOn,
      combiner: 'OR',
      severity: 'CRITICAL',
      conditions,
      notificationChannels: this.channels,
      dependsOn: [this.metric, this.restoreMetric, ...(this.mirrorMetric ? [this.mirrorMetric] : [])],
      documentation: { mimeType: 'text/markdown', content: `A counterparty job stopped reporting: no verify or restore result line for ${h} hours (or no image-mirror line for ${MIRROR_SILENCE_HOURS} hours). Check the Cloud Scheduler triggers and the jobs' last executions.` },
    });
    if (props.alertOnTransferFailure ?? true) {
      this.transferFailurePolicy = this.logMatch('TransferFailurePolicy', `${prefix}: nightly transfer failed`, 'ERROR', 'resource.type="storage_transfer_job" AND severity>=ERROR',
        'The nightly keyless pull from the primary logged a failed action. Check the transfer job\'s operations (`gcloud transfer operations list`) and the AWS reader role\'s trust (storage_transfer_subject_id).');
    }
    this.verifyFailurePolicy = this.logMatch('VerifyFailurePolicy', `${prefix}: verification failed`, 'CRITICAL', jobLog(verifyJob, 'jsonPayload.event="counterparty.verify"', 'jsonPayload.result="failure"'),
      'A verify run ended `failure` (its `reason` and `error` say why: verification-failed, incomplete-night, rollback, record-write-failed, ...). See docs/runtime.md.', verifyOn);
    this.restoreFailurePolicy = this.logMatch('RestoreFailurePolicy', `${prefix}: restore failed`, 'CRITICAL', jobLog(verifyJob, 'jsonPayload.event="counterparty.restore"', 'jsonPayload.result="failure"'),
      'A restore into the standby ended `failure`; the standby keeps its previous night. The line\'s `reason` and `error` say why (restore-failed, older-night, not-verified, ...).', verifyOn);
    this.jobFailurePolicy = this.jobExecutions(prefix);
    if (props.mirrorJobName) {
      this.imagePresencePolicy = this.logMatch('ImagePresencePolicy', `${prefix}: an image of the plan is missing from Artifact Registry`, 'CRITICAL',
        jobLog(props.mirrorJobName, 'jsonPayload.event="counterparty.mirror"', 'jsonPayload.imagesMissing>0'),
        'The image mirror found an image of the plan missing from this project\'s registry (its `missing` field lists them): a failover could not start it. Run the mirror on demand (`gcloud run jobs execute <mirror job> --wait`) and read its `error`.');
    }
  }

  private resolveChannels(prefix: string): string[] {
    const props = this.props;
    const channels = props.notificationChannels ? [...props.notificationChannels]
      : (props.emails ?? []).map((email, i) => new MonitoringNotificationChannel(this, `Email${i}`, {
        project: props.projectId, type: 'email', displayName: `${prefix} on-call ${email}`, labels: { email_address: email },
      }).id);
    if (channels.length === 0 && (props.requireChannels ?? true)) {
      invalid(this, 'notificationChannels', props.notificationChannels, 'and emails are both empty: the alerts would notify no one.', 'give notification channel IDs (plan counterparties.gcp.notificationChannels) or e-mail addresses (plan notifications.emails).');
    }
    return channels;
  }

  private lineMetric(id: string, name: string, filter: string, displayName: string): LoggingMetric {
    return new LoggingMetric(this, id, {
      project: this.props.projectId,
      name,
      description: `${displayName} (docs/runtime.md "Log lines and alert conditions").`,
      filter,
      metricDescriptor: { metricKind: 'DELTA', valueType: 'INT64', unit: '1', displayName },
    });
  }

  private logMatch(id: string, displayName: string, severity: string, filter: string, content: string, enabled = true): MonitoringAlertPolicy {
    return new MonitoringAlertPolicy(this, id, {
      project: this.props.projectId,
      displayName,
      enabled,
      combiner: 'OR',
      severity,
      conditions: [{ displayName, conditionMatchedLog: { filter } }],
      alertStrategy: { notificationRateLimit: { period: '3600s' }, autoClose: '86400s' },
      notificationChannels: this.channels,
      documentation: { mimeType: 'text/markdown', content },
    });
  }

  private jobExecutions(prefix: string): MonitoringAlertPolicy {
    const jobs = [...new Set(this.props.jobNames ?? [this.props.verifyJobName])];
    return new MonitoringAlertPolicy(this, 'JobFailurePolicy', {
      project: this.props.projectId,
      displayName: `${prefix}: a job execution failed`,
      enabled: true,
      combiner: 'OR',
      severity: 'ERROR',
      conditions: [{
        displayName: `Failed executions of ${jobs.join(', ')}`,
        conditionThreshold: {
          filter: [`metric.type="${JOB_EXECUTIONS_METRIC}"`, 'resource.type="cloud_run_job"', 'metric.labels.result="failed"',
            `resource.labels.job_name=one_of(${jobs.map((j) => `"${j}"`).join(', ')})`].join(' AND '),
          comparison: 'COMPARISON_GT',
          thresholdValue: 0,
          duration: '0s',
          aggregations: [{ alignmentPeriod: '300s', perSeriesAligner: 'ALIGN_DELTA', crossSeriesReducer: 'REDUCE_SUM', groupByFields: ['resource.labels.job_name'] }],
          trigger: { count: 1 },
        },
      }],
      alertStrategy: { autoClose: '86400s' },
      notificationChannels: this.channels,
      documentation: { mimeType: 'text/markdown', content: 'A counterparty Cloud Run job execution failed (non-zero exit, crash, timeout or OOM kill). Read the execution\'s logs: its one result line gives the `reason`; a job killed before it could print has none.' },
    });
  }
}
