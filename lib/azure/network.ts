/**
 * The counterparty's private network: a subnet for the Container Apps
 * environment (jobs and standby app), with service endpoints so the storage
 * and Key Vault firewalls can admit it, and a delegated subnet plus private
 * DNS zone for the standby PostgreSQL server (no public endpoint).
 */
import { Construct } from 'constructs';
import { PrivateDnsZone } from '@cdktf/provider-azurerm/lib/private-dns-zone';
import { PrivateDnsZoneVirtualNetworkLink } from '@cdktf/provider-azurerm/lib/private-dns-zone-virtual-network-link';
import { Subnet } from '@cdktf/provider-azurerm/lib/subnet';
import { VirtualNetwork } from '@cdktf/provider-azurerm/lib/virtual-network';
import { invalidProp } from './util';

const CIDR_RE = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d|[12]\d|3[0-2])$/;

export interface CounterpartyNetworkProps {
  /** Virtual network name. */
  readonly name: string;
  readonly resourceGroupName: string;
  readonly location: string;
  /**
   * Address space of the network.
   * @default '10.64.0.0/16'
   */
  readonly addressSpace?: string;
  /**
   * Subnet of the Container Apps environment (/27 or larger; workload-profiles environments).
   * @default '10.64.0.0/23'
   */
  readonly appsSubnetPrefix?: string;
  /**
   * Subnet delegated to PostgreSQL flexible servers (/28 or larger).
   * @default '10.64.2.0/28'
   */
  readonly databaseSubnetPrefix?: string;
  /**
   * Subnet for private endpoints (the Key Vault's), /28 or larger; not delegated.
   * @default '10.64.2.16/28'
   */
  readonly endpointsSubnetPrefix?: string;
  /**
   * Private DNS zone the standby database registers in; must end in `.postgres.database.azure.com`.
   * @default - no zone (and no database subnet use)
   */
  readonly postgresDnsZoneName?: string;
  /**
   * Tags.
   * @default {}
   */
  readonly tags?: Record<string, string>;
}

/** VNet, Container Apps subnet (service endpoints Storage and Key Vault), database subnet and private DNS. */
export class CounterpartyNetwork extends Construct {
  public readonly network: VirtualNetwork;
  public readonly appsSubnet: Subnet;
  public readonly databaseSubnet: Subnet;
  /** Subnet of the private endpoints (Key Vault). */
  public readonly endpointsSubnet: Subnet;
  public readonly postgresDnsZone?: PrivateDnsZone;
  public readonly postgresDnsLink?: PrivateDnsZoneVirtualNetworkLink;

  constructor(scope: Construct, id: string, props: CounterpartyNetworkProps) {
    super(scope, id);
    const space = props.addressSpace ?? '10.64.0.0/16';
    const apps = props.appsSubnetPrefix ?? '10.64.0.0/23';
    const db = props.databaseSubnetPrefix ?? '10.64.2.0/28';
    const endpoints = props.endpointsSubnetPrefix ?? '10.64.2.16/28';
    for (const [prop, value, maxBits] of [['addressSpace', space, 29], ['appsSubnetPrefix', apps, 27], ['databaseSubnetPrefix', db, 28], ['endpointsSubnetPrefix', endpoints, 28]] as const) {
      const m = CIDR_RE.exec(value);
      if (!m || m.slice(1, 5).some((o) => Number(o) > 255)) invalidProp(this, prop, value, 'is not an IPv4 CIDR range.', 'give e.g. "10.64.0.0/16".');
      if (Number(m[5]) > maxBits) invalidProp(this, prop, value, `is smaller than /${maxBits}.`, `give a /${maxBits} or larger range.`);
    }
    if (props.postgresDnsZoneName !== undefined && !/^[a-z0-9-]+(\.[a-z0-9-]+)*\.postgres\.database\.azure\.com$/.test(props.postgresDnsZoneName)) {
      invalidProp(this, 'postgresDnsZoneName', props.postgresDnsZoneName, 'is not a PostgreSQL private DNS zone name.', 'give e.g. "acme-cc.private.postgres.database.azure.com".');
    }

    this.network = new VirtualNetwork(this, 'Network', {
      name: props.name,
      resourceGroupName: props.resourceGroupName,
      location: props.location,
      addressSpace: [space],
      tags: props.tags,
    });
    this.appsSubnet = new Subnet(this, 'AppsSubnet', {
      name: 'snet-apps',
      resourceGroupName: props.resourceGroupName,
      virtualNetworkName: this.network.name,
      addressPrefixes: [apps],
      serviceEndpoints: ['Microsoft.Storage', 'Microsoft.KeyVault'],
      delegation: [{ name: 'container-apps', serviceDelegation: { name: 'Microsoft.App/environments', actions: ['Microsoft.Network/virtualNetworks/subnets/join/action'] } }],
    });
    this.databaseSubnet = new Subnet(this, 'DatabaseSubnet', {
      name: 'snet-postgres',
      resourceGroupName: props.resourceGroupName,
      virtualNetworkName: this.network.name,
      addressPrefixes: [db],
      serviceEndpoints: ['Microsoft.Storage'],
      delegation: [{ name: 'postgres', serviceDelegation: { name: 'Microsoft.DBforPostgreSQL/flexibleServers', actions: ['Microsoft.Network/virtualNetworks/subnets/join/action'] } }],
    });
    this.endpointsSubnet = new Subnet(this, 'EndpointsSubnet', {
      name: 'snet-endpoints',
      resourceGroupName: props.resourceGroupName,
      virtualNetworkName: this.network.name,
      addressPrefixes: [endpoints],
      privateEndpointNetworkPolicies: 'Enabled',
    });
    if (props.postgresDnsZoneName) {
      this.postgresDnsZone = new PrivateDnsZone(this, 'PostgresDnsZone', { name: props.postgresDnsZoneName, resourceGroupName: props.resourceGroupName, tags: props.tags });
      this.postgresDnsLink = new PrivateDnsZoneVirtualNetworkLink(this, 'PostgresDnsLink', {
        name: 'postgres',
        resourceGroupName: props.resourceGroupName,
        privateDnsZoneName: this.postgresDnsZone.name,
        virtualNetworkId: this.network.id,
        registrationEnabled: false,
        tags: props.tags,
      });
    }
  }
}
