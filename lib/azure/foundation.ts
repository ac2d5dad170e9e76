/**
 * The resource group of the counterparty and the user-assigned identities its
 * workloads run as (one per role, so that each gets only the rights it needs).
 */
import { Construct } from 'constructs';
import { ResourceGroup } from '@cdktf/provider-azurerm/lib/resource-group';
import { UserAssignedIdentity } from '@cdktf/provider-azurerm/lib/user-assigned-identity';
import { invalidProp } from './util';

export interface CounterpartyResourceGroupProps {
  /** Resource group name (from `naming.azureResourceGroupName`). */
  readonly name: string;
  /** Azure location. */
  readonly location: string;
  /**
   * Tags for the group.
   * @default {}
   */
  readonly tags?: Record<string, string>;
}

/** The counterparty's resource group (`lifecycle.preventDestroy`). */
export class CounterpartyResourceGroup extends Construct {
  public readonly resourceGroup: ResourceGroup;

  constructor(scope: Construct, id: string, props: CounterpartyResourceGroupProps) {
    super(scope, id);
    if (!/^[\w().-]{1,90}$/.test(props.name) || props.name.endsWith('.')) {
      invalidProp(this, 'name', props.name, 'is not a resource group name.', 'use 1-90 letters, digits, underscores, hyphens, periods and parentheses, not ending in a period.');
    }
    this.resourceGroup = new ResourceGroup(this, 'Group', {
      name: props.name,
      location: props.location,
      tags: props.tags,
      lifecycle: { preventDestroy: true },
    });
  }

  public get name(): string {
    return this.resourceGroup.name;
  }

  public get id(): string {
    return this.resourceGroup.id;
  }
}

export interface WorkloadIdentityProps {
  /** Identity name (from the naming contract, e.g. `naming.azureJobsIdentityName`). */
  readonly name: string;
  readonly resourceGroupName: string;
  readonly location: string;
  /**
   * Keep the identity when the stack is destroyed or an upgrade would replace it.
   * Set it for an identity another system trusts by principal ID (the copy
   * identity: the AWS reader role names its principal ID as `sub`).
   * @default false
   */
  readonly preventDestroy?: boolean;
  /**
   * Tags for the identity.
   * @default {}
   */
  readonly tags?: Record<string, string>;
}

/** A user-assigned managed identity for one workload. */
export class WorkloadIdentity extends Construct {
  public readonly identity: UserAssignedIdentity;

  constructor(scope: Construct, id: string, props: WorkloadIdentityProps) {
    super(scope, id);
    if (!/^[a-zA-Z0-9][\w-]{2,127}$/.test(props.name)) {
      invalidProp(this, 'name', props.name, 'is not a user-assigned identity name.', 'use 3-128 letters, digits, hyphens and underscores, starting with a letter or digit.');
    }
    this.identity = new UserAssignedIdentity(this, 'Identity', {
      name: props.name,
      resourceGroupName: props.resourceGroupName,
      location: props.location,
      tags: props.tags,
      lifecycle: props.preventDestroy ? { preventDestroy: true } : undefined,
    });
  }

  /** ARM resource ID (for `identity_ids` and `registry.identity`). */
  public get id(): string {
    return this.identity.id;
  }

  /** Client (application) ID: what `AZURE_CLIENT_ID` selects in the job. */
  public get clientId(): string {
    return this.identity.clientId;
  }

  /** Principal (object) ID: what role assignments and the AWS trust (`sub`) name. */
  public get principalId(): string {
    return this.identity.principalId;
  }
}
