/**
 * Alerting on the jobs' structured log lines (docs/ARCHITECTURE.md): one
 * alert when no successful verification (or copy) has been logged within
 * RPO plus grace, one as soon as a failure line appears, and an action group
 * that e-mails the plan's addresses.
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

/** Action group plus the staleness and failure log alerts. */
export class CounterpartyAlerts extends Construct {
  public readonly actionGroup: MonitorActionGroup;
  public readonly verifyStale: MonitorScheduledQueryRulesAlertV2;
  public readonly copyStale: MonitorScheduledQueryRulesAlertV2;
  public readonly failure: MonitorScheduledQueryRulesAlertV2;

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

    // The look-back is the query's own ago(); the window (P2D) only has to cover it.
    this.verifyStale = rule('VerifyStale', 'verify-stale', `No successful Counterparty verification within ${hours} h (RPO + grace).`,
      eventQuery(['counterparty.verify'], 'success', hours), 'LessThan', 'P2D');
    this.copyStale = rule('CopyStale', 'copy-stale', `No successful Counterparty copy within ${hours} h (RPO + grace).`,
      eventQuery(['counterparty.copy'], 'success', hours), 'LessThan', 'P2D');
    this.failure = rule('Failure', 'failure', 'A Counterparty copy, verification or restore logged a failure.',
      eventQuery(['counterparty.copy', 'counterparty.verify', 'counterparty.restore'], 'failure'), 'GreaterThan', 'PT1H');
  }
}
