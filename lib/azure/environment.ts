/**
 * Where the jobs and the standby run: a Log Analytics workspace that receives
 * their console logs (the alerts query it), and a Container Apps environment
 * in the counterparty's network.
 */
import { Construct } from 'constructs';
import { ContainerAppEnvironment } from '@cdktf/provider-azurerm/lib/container-app-environment';
import { LogAnalyticsWorkspace } from '@cdktf/provider-azurerm/lib/log-analytics-workspace';
import { invalidProp } from './util';

/** The workload profile the jobs and the app run on. */
export const CONSUMPTION_PROFILE = 'Consumption';

export interface JobsEnvironmentProps {
  /** Container Apps environment name. */
  readonly name: string;
  /** Log Analytics workspace name. */
  readonly workspaceName: string;
  readonly resourceGroupName: string;
  readonly location: string;
  /** Subnet for the environment (delegated to `Microsoft.App/environments`). */
  readonly infrastructureSubnetId: string;
  /**
   * Days logs are kept in the workspace (30-730).
   * @default 90
   */
  readonly logRetentionDays?: number;
  /**
   * Tags.
   * @default {}
   */
  readonly tags?: Record<string, string>;
}

/** Log Analytics workspace and the Container Apps environment that sends its console logs there. */
export class JobsEnvironment extends Construct {
  public readonly workspace: LogAnalyticsWorkspace;
  public readonly environment: ContainerAppEnvironment;

  constructor(scope: Construct, id: string, props: JobsEnvironmentProps) {
    super(scope, id);
    const retention = props.logRetentionDays ?? 90;
    if (!Number.isInteger(retention) || retention < 30 || retention > 730) {
      invalidProp(this, 'logRetentionDays', retention, 'is outside what Log Analytics allows.', 'use a whole number of days from 30 to 730.');
    }
    this.workspace = new LogAnalyticsWorkspace(this, 'Workspace', {
      name: props.workspaceName,
      resourceGroupName: props.resourceGroupName,
      location: props.location,
      sku: 'PerGB2018',
      retentionInDays: retention,
      tags: props.tags,
      lifecycle: { preventDestroy: true },
    });
    this.environment = new ContainerAppEnvironment(this, 'Environment', {
      name: props.name,
      resourceGroupName: props.resourceGroupName,
      location: props.location,
      logsDestination: 'log-analytics',
      logAnalyticsWorkspaceId: this.workspace.id,
      infrastructureSubnetId: props.infrastructureSubnetId,
      internalLoadBalancerEnabled: false,
      workloadProfile: [{ name: CONSUMPTION_PROFILE, workloadProfileType: 'Consumption' }],
      tags: props.tags,
    });
  }
}
