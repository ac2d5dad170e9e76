/**
 * Alerting on the jobs' structured result lines, as docs/runtime.md "Log lines and alert conditions"
 * specifies them: data age (`stale`), nothing reported within RPO plus grace, copy / verify / restore
 * failure lines, failed job executions (a job that wrote no success line in its window, which also
 * catches a container killed before it could print), and the image-presence alert on the mirror's
 * `imagesMissing`. One action group e-mails the plan's addresses.
 */
import { Construct } from 'constructs';
import { MonitorActionGroup } from '@cdktf/provider-azurerm/lib/monitor-action-group';
import { MonitorScheduledQueryRulesAlertV2 } from '@cdktf/provider-azurerm/lib/monitor-scheduled-query-rules-alert-v2';
import { invalidProp } from './util';

/** Table and column Container Apps write console lines to, with the `log-analytics` destination. */
export const CONSOLE_LOG_TABLE = 'ContainerAppConsoleLogs_CL';
export const CONSOLE_LOG_COLUMN = 'Log_s';

/** Azure's ceiling on a log alert's look-back (window × periods): 48 hours. */
export const MAX_LOOKBACK_HOURS = 48;

const EMAIL_RE = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

/** KQL: the structured lines of `event` with `result`, in the last `hours` (or the whole window). */
export function eventQuery(events: readonly string[], result: 'success' | 'failure', hours?: number): string {
  const list = events.map((e) => `"${e}"`).join(', ');
  return [
    CONSOLE_LOG_TABLE,
    ...(hours ? [`| where TimeGenerated > ago(${hours}h)`] : []),
    `| where ${CONSOLE_LOG_COLUMN} has "counterparty."`,
    `| extend line = parse_json(${CONSOLE_LOG_COLUMN})`,
    `| where tostring(line.event) in (${list}) and tostring(line.result) == "${result}"`,
  ].join('\n');
}

/** KQL: result lines of `events` (any result) where `condition` (a KQL predicate on `line`) holds. */
export function lineQuery(events: readonly string[], condition: string): string {
  const list = events.map((e) => `"${e}"`).join(', ');
  return [
    CONSOLE_LOG_TABLE,
    `| where ${CONSOLE_LOG_COLUMN} has "counterparty."`,
    `| extend line = parse_json(${CONSOLE_LOG_COLUMN})`,
    `| where tostring(line.event) in (${list}) and (${condition})`,
  ].join('\n');
}

/** KQL: one row per event of `events` that wrote no `success` line in the last `hours` (a failed, killed or missed run). */
export function missingSuccessQuery(events: readonly string[], hours: number): string {
  const list = events.map((e) => `"${e}"`).join(', ');
  return [
    `let expected = datatable(event: string) [${list}];`,
    `let succeeded = ${CONSOLE_LOG_TABLE}`,
    `| where TimeGenerated > ago(${hours}h) and ${CONSOLE_LOG_COLUMN} has "counterparty."`,
    `| extend line = parse_json(${CONSOLE_LOG_COLUMN})`,
    '| where tostring(line.result) == "success"',
    '| summarize by event = tostring(line.event);',
    'expected | join kind=leftanti succeeded on event',
  ].join('\n');
}

export interface CounterpartyAlertsProps {
  /** Prefix of the alert and action group names, e.g. `acme-cc`. */
  readonly namePrefix: string;
  readonly resourceGroupName: string;
  readonly location: string;
  /** Log Analytics workspace (resource ID) the jobs log to. */
  readonly workspaceId: string;
  /** Hours without a success line before the staleness alerts fire: the plan's `rpoHours + alarmGraceHours` (at most 48). */
  readonly staleAfterHours: number;
  /**
   * Whether the nightly job restores (standby mode): then a missing `counterparty.restore` line alerts too.
   * @default true
   */
  readonly restoreExpected?: boolean;
  /**
   * Result events of the nightly jobs whose absence of a success line within a day is a failed job execution.
   * @default copy, verify, (restore), mirror, prune
   */
  readonly nightlyJobEvents?: readonly string[];
  /**
   * E-mail receivers of the action group.
   * @default [] (the alerts still show in Azure Monitor)
   */
  readonly emails?: readonly string[];
  /**
   * Severity of the alerts (0 critical - 4 verbose).
   * @default 1
   */
  readonly severity?: number;
  /**
   * Tags.
   * @default {}
   */
  readonly tags?: Record<string, string>;
}

/** Hours a nightly job may go without a success line before its execution counts as failed (a day plus an hour). */
export const NIGHTLY_JOB_WINDOW_HOURS = 25;

/** Action group plus the data-age, nothing-reported, failure, failed-execution and image-presence log alerts. */
export class CounterpartyAlerts extends Construct {
  public readonly actionGroup: MonitorActionGroup;
  /** data age: a verify or restore line says `stale`. */
  public readonly dataAge: MonitorScheduledQueryRulesAlertV2;
  /** nothing reported: no verify line within RPO + grace. */
  public readonly verifyStale: MonitorScheduledQueryRulesAlertV2;
  /** nothing reported: no restore line within RPO + grace (standby mode only). */
  public readonly restoreStale?: MonitorScheduledQueryRulesAlertV2;
  /** nothing reported: no successful copy within RPO + grace. */
  public readonly copyStale: MonitorScheduledQueryRulesAlertV2;
  public readonly copyFailure: MonitorScheduledQueryRulesAlertV2;
  public readonly verifyFailure: MonitorScheduledQueryRulesAlertV2;
  public readonly restoreFailure: MonitorScheduledQueryRulesAlertV2;
  /** failed job execution: any job's failure line, or a nightly job with no success line in a day. */
  public readonly jobFailure: MonitorScheduledQueryRulesAlertV2;
  public readonly jobMissedRun: MonitorScheduledQueryRulesAlertV2;
  /** image presence: the mirror reports an image of the plan missing from the registry (or could not check). */
  public readonly imageMissing: MonitorScheduledQueryRulesAlertV2;

  constructor(scope: Construct, id: string, props: CounterpartyAlertsProps) {
    super(scope, id);
    const hours = props.staleAfterHours;
    if (!Number.isInteger(hours) || hours < 1 || hours > MAX_LOOKBACK_HOURS) {
      invalidProp(this, 'staleAfterHours', hours, `is not a look-back Azure log alerts can express (whole hours, 1-${MAX_LOOKBACK_HOURS}).`,
        `lower rpoHours + alarmGraceHours to at most ${MAX_LOOKBACK_HOURS}, or alert on staleness from the GCP counterparty or the primary instead.`);
    }
    const severity = props.severity ?? 1;
    if (!Number.isInteger(severity) || severity < 0 || severity > 4) invalidProp(this, 'severity', severity, 'is not an alert severity.', 'use 0 (critical) to 4 (verbose).');
    const emails = props.emails ?? [];
    emails.forEach((e, i) => { if (!EMAIL_RE.test(e)) invalidProp(this, `emails[${i}]`, e, 'is not an e-mail address.', 'give an address such as "oncall@example.com".'); });
    const restoreExpected = props.restoreExpected ?? true;

    this.actionGroup = new MonitorActionGroup(this, 'ActionGroup', {
      name: `ag-${props.namePrefix}-counterparty`,
      resourceGroupName: props.resourceGroupName,
      location: 'global',
      shortName: props.namePrefix.replace(/[^A-Za-z0-9]/g, '').slice(0, 12) || 'counterparty',
      emailReceiver: emails.map((emailAddress, i) => ({ name: `email-${i}`, emailAddress, useCommonAlertSchema: true })),
      tags: props.tags,
    });

    const rule = (ruleId: string, suffix: string, description: string, query: string, operator: string, windowDuration: string) =>
      new MonitorScheduledQueryRulesAlertV2(this, ruleId, {
        name: `alert-${props.namePrefix}-${suffix}`,
        resourceGroupName: props.resourceGroupName,
        location: props.location,
        description,
        scopes: [props.workspaceId],
        severity,
        evaluationFrequency: 'PT1H',
        windowDuration,
        // The console-log table appears only after the first job logs a line.
        skipQueryValidation: true,
        autoMitigationEnabled: true,
        criteria: [{ query, timeAggregationMethod: 'Count', operator, threshold: operator === 'LessThan' ? 1 : 0 }],
        action: { actionGroups: [this.actionGroup.id] },
        tags: props.tags,
      });
    const failureOf = (event: string) => eventQuery([event], 'failure');

    // The look-back of the "nothing reported" rules is the query's own ago(); the window (P2D) only has to cover it.
    this.dataAge = rule('DataAge', 'data-age', `The newest verified or restored night is older than ${hours} h (RPO + grace), or none exists.`,
      lineQuery(['counterparty.verify', 'counterparty.restore'], 'tobool(line.stale) == true'), 'GreaterThan', 'PT1H');
    this.verifyStale = rule('VerifyStale', 'verify-stale', `No Counterparty verification reported within ${hours} h (RPO + grace).`,
      lineQuery(['counterparty.verify'], 'true') + `\n| where TimeGenerated > ago(${hours}h)`, 'LessThan', 'P2D');
    if (restoreExpected) {
      this.restoreStale = rule('RestoreStale', 'restore-stale', `No Counterparty restore reported within ${hours} h (RPO + grace).`,
        lineQuery(['counterparty.restore'], 'true') + `\n| where TimeGenerated > ago(${hours}h)`, 'LessThan', 'P2D');
    }
    this.copyStale = rule('CopyStale', 'copy-stale', `No successful Counterparty copy within ${hours} h (RPO + grace).`,
      eventQuery(['counterparty.copy'], 'success', hours), 'LessThan', 'P2D');
    this.copyFailure = rule('CopyFailure', 'copy-failure', 'A Counterparty copy reported a failure (including a federation mismatch).', failureOf('counterparty.copy'), 'GreaterThan', 'PT1H');
    this.verifyFailure = rule('VerifyFailure', 'verify-failure', 'A Counterparty verification reported a failure (including rollback).', failureOf('counterparty.verify'), 'GreaterThan', 'PT1H');
    this.restoreFailure = rule('RestoreFailure', 'restore-failure', 'A Counterparty restore reported a failure (including an older night).', failureOf('counterparty.restore'), 'GreaterThan', 'PT1H');
    this.jobFailure = rule('JobFailure', 'job-failure', 'A Counterparty job (copy, verify, restore, mirror, prune) reported a failure.',
      eventQuery(['counterparty.copy', 'counterparty.verify', 'counterparty.restore', 'counterparty.mirror', 'counterparty.prune'], 'failure'), 'GreaterThan', 'PT1H');
    const nightly = props.nightlyJobEvents ?? ['counterparty.copy', 'counterparty.verify', ...(restoreExpected ? ['counterparty.restore'] : []), 'counterparty.mirror', 'counterparty.prune'];
    this.jobMissedRun = rule('JobMissedRun', 'job-missed-run', `A Counterparty nightly job wrote no success line in ${NIGHTLY_JOB_WINDOW_HOURS} h: its execution failed, was killed, or never ran.`,
      missingSuccessQuery(nightly, NIGHTLY_JOB_WINDOW_HOURS), 'GreaterThan', 'P2D');
    this.imageMissing = rule('ImageMissing', 'image-missing', 'An image of the plan is missing from the counterparty registry (or the mirror could not check).',
      lineQuery(['counterparty.mirror'], 'toint(line.imagesMissing) > 0 or (tostring(line.result) == "failure" and isnull(line.imagesMissing))'), 'GreaterThan', 'PT1H');
  }
}
