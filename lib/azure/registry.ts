/**
 * The counterparty's own container registry. The standby and the jobs pull
 * only from here (by managed identity), so a failover never pulls from AWS.
 */
import { Construct } from 'constructs';
import { ContainerRegistry } from '@cdktf/provider-azurerm/lib/container-registry';
import { RoleAssignment } from '@cdktf/provider-azurerm/lib/role-assignment';
import { naming } from '../core';
import { invalidProp, ROLES } from './util';

export interface ImageRegistryProps {
  /** Registry name (from `naming.azureContainerRegistryName`): 5-50 letters and digits. */
  readonly name: string;
  readonly resourceGroupName: string;
  readonly location: string;
  /**
   * SKU. `Premium` adds customer-managed keys, firewall rules and private link.
   * @default 'Standard'
   */
  readonly sku?: 'Basic' | 'Standard' | 'Premium';
  /**
   * Tags.
   * @default {}
   */
  readonly tags?: Record<string, string>;
}

/** Azure Container Registry with the admin user and anonymous pull disabled. */
export class ImageRegistry extends Construct {
  public readonly registry: ContainerRegistry;

  constructor(scope: Construct, id: string, props: ImageRegistryProps) {
    super(scope, id);
    const violation = naming.nameRuleViolation(props.name, naming.NAME_RULES.azureContainerRegistry);
    if (violation) invalidProp(this, 'name', props.name, `${violation}.`, 'derive it with naming.azureContainerRegistryName, or give 5-50 letters and digits.');
    this.registry = new ContainerRegistry(this, 'Registry', {
      name: props.name,
      resourceGroupName: props.resourceGroupName,
      location: props.location,
      sku: props.sku ?? 'Standard',
      adminEnabled: false,
      anonymousPullEnabled: false,
      tags: props.tags,
      lifecycle: { preventDestroy: true },
    });
  }

  public get loginServer(): string {
    return this.registry.loginServer;
  }

  /** `<loginServer>/<repository>:<tag>` for an image of the plan. */
  public imageUri(image: string): string {
    return `${this.registry.loginServer}/${image}`;
  }

  /** `AcrPull` for a principal on this registry. */
  public grantPull(id: string, principalId: string): RoleAssignment {
    return new RoleAssignment(this, id, { scope: this.registry.id, roleDefinitionName: ROLES.acrPull, principalId, principalType: 'ServicePrincipal' });
  }

  /** `AcrPush` (push and pull) for a principal on this registry: the nightly image mirror. */
  public grantPush(id: string, principalId: string): RoleAssignment {
    return new RoleAssignment(this, id, { scope: this.registry.id, roleDefinitionName: ROLES.acrPush, principalId, principalType: 'ServicePrincipal' });
  }
}
