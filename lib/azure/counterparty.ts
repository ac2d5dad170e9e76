/**
 * `AzureCounterparty`: the whole Azure counterparty of one protection plan,
 * composed from the constructs of this folder. Every name comes from the
 * naming contract, so the AWS half (built independently from the same plan)
 * trusts exactly the identity, issuer and audience used here.
 */
import { Construct } from 'constructs';
import { Annotations, TerraformOutput } from 'cdktf';
import { annotatePlanWarnings } from '../terraform/plan-warnings';
import { counterpartySchedule, naming, resolvePlan, type PostgresDataset, type ProtectionPlan } from '../core';
import { CounterpartyResourceGroup, WorkloadIdentity } from './foundation';
import { CounterpartyKeyVault } from './key-vault';
import { CounterpartyNetwork, type CounterpartyNetworkProps } from './network';
import { ImmutableStorageAccount } from './storage';
import { ImageRegistry } from './registry';
import { JobsEnvironment } from './environment';
import { NightlyCopyJob, VerifyRestoreJob } from './jobs';
import { StandbyApplication, StandbyDatabase } from './standby';
import { CounterpartyAlerts } from './alerts';

/** Stable Terraform output names (the AWS half and the docs refer to them). */
export const AZURE_OUTPUTS = {
  copyIdentityPrincipalId: 'copy_identity_principal_id',
  copyIdentityClientId: 'copy_identity_client_id',
  oidcIssuer: 'azure_oidc_issuer',
  tokenAudience: 'azure_token_audience',
  awsReaderRoleArn: 'aws_reader_role_arn',
  storageAccountName: 'storage_account_name',
  exportsStore: 'exports_store_url',
  registryLoginServer: 'registry_login_server',
  standbyAppFqdn: 'standby_app_fqdn',
  keyVaultUri: 'key_vault_uri',
} as const;

export interface AzureCounterpartyProps {
  /** The protection plan; its `counterparties.azure` is rendered. */
  readonly plan: ProtectionPlan;
  /**
   * Address ranges of the counterparty's network.
   * @default - see CounterpartyNetworkProps
   */
  readonly network?: Pick<CounterpartyNetworkProps, 'addressSpace' | 'appsSubnetPrefix' | 'databaseSubnetPrefix'>;
  /**
   * Standby database sizing and backups.
   * @default - B_Standard_B1ms, 32 GiB, 7 days of locally redundant backups
   */
  readonly database?: {
    /** @default 'B_Standard_B1ms' */
    readonly skuName?: string;
    /** @default 32768 */
    readonly storageMb?: number;
    /** @default 7 */
    readonly backupRetentionDays?: number;
    /** @default false (needs geoBackupKeyVaultKeyId and geoBackupIdentityId with the CMK) */
    readonly geoRedundantBackup?: boolean;
    /** @default - none */
    readonly geoBackupKeyVaultKeyId?: string;
    /** @default - none */
    readonly geoBackupIdentityId?: string;
  };
  /**
   * Registry SKU (`Premium` adds CMK and firewall rules).
   * @default 'Standard'
   */
  readonly registrySku?: 'Basic' | 'Standard' | 'Premium';
  /**
   * Port the contact-centre application listens on.
   * @default 8080
   */
  readonly applicationPort?: number;
  /**
   * Longest run of the copy job, in seconds (the first copy moves everything).
   * @default 14400
   */
  readonly copyTimeoutSeconds?: number;
}

/** The Azure counterparty: immutable copies, keyless nightly copy, verification, standby and alerts. */
export class AzureCounterparty extends Construct {
  public readonly resourceGroup: CounterpartyResourceGroup;
  public readonly copyIdentity: WorkloadIdentity;
  public readonly verifyIdentity: WorkloadIdentity;
  public readonly appIdentity: WorkloadIdentity;
  public readonly encryptionIdentity: WorkloadIdentity;
  public readonly network: CounterpartyNetwork;
  public readonly keyVault: CounterpartyKeyVault;
  public readonly storage: ImmutableStorageAccount;
  public readonly registry: ImageRegistry;
  public readonly environment: JobsEnvironment;
  public readonly database: StandbyDatabase;
  public readonly copyJob: NightlyCopyJob;
  public readonly verifyJob: VerifyRestoreJob;
  public readonly application: StandbyApplication;
  public readonly alerts: CounterpartyAlerts;

  constructor(scope: Construct, id: string, props: AzureCounterpartyProps) {
    super(scope, id);
    const plan = resolvePlan(props.plan);
    const az = plan.counterparties.azure;
    if (!az) {
      throw new Error(`${this.node.path}: plan.counterparties.azure = (not set): the plan has no Azure counterparty. Fix: add counterparties.azure { subscriptionId, tenantId, location }, or don't create AzureCounterparty.`);
    }
    annotatePlanWarnings(this, plan.warnings);
    if (az.allowedIpRanges.length === 0) {
      Annotations.of(this).addInfo('counterparties.azure.allowedIpRanges is empty: the Key Vault and storage firewalls admit only Azure services and the jobs subnet, so run cdktf deploy from inside the network or add your deploy runner\'s egress IP (docs/azure.md, Prerequisites).');
    }
    const tags = { ...plan.tags };
    const location = az.location;
    const schedule = counterpartySchedule(plan);

    this.resourceGroup = new CounterpartyResourceGroup(this, 'ResourceGroup', { name: naming.azureResourceGroupName(plan), location, tags });
    const rg = this.resourceGroup.name;
    const identity = (cid: string, name: string, preventDestroy = false) =>
      new WorkloadIdentity(this, cid, { name, resourceGroupName: rg, location, tags, preventDestroy });
    // The copy identity's principal ID is the `sub` the AWS role trusts: never replace it.
    this.copyIdentity = identity('CopyIdentity', naming.azureJobsIdentityName(plan), true);
    this.verifyIdentity = identity('VerifyIdentity', naming.azureResourceName(plan, 'id', 'verify'));
    this.appIdentity = identity('AppIdentity', naming.azureResourceName(plan, 'id', 'app'));
    this.encryptionIdentity = identity('EncryptionIdentity', naming.azureResourceName(plan, 'id', 'cmk'));

    this.network = new CounterpartyNetwork(this, 'Network', {
      name: naming.azureResourceName(plan, 'vnet'),
      resourceGroupName: rg,
      location,
      postgresDnsZoneName: `${plan.system}.private.postgres.database.azure.com`,
      ...props.network,
      tags,
    });
    const jobsSubnets = [this.network.appsSubnet.id];

    this.keyVault = new CounterpartyKeyVault(this, 'KeyVault', {
      name: naming.azureKeyVaultName(plan),
      resourceGroupName: rg,
      location,
      tenantId: az.tenantId,
      allowedIpRanges: az.allowedIpRanges,
      allowedSubnetIds: jobsSubnets,
      tags,
    });
    const keyAccess = this.keyVault.grantEncryptionUser('EncryptionIdentityKeyAccess', this.encryptionIdentity.principalId);

    this.storage = new ImmutableStorageAccount(this, 'Storage', {
      name: naming.azureStorageAccountName(plan),
      resourceGroupName: rg,
      location,
      residency: plan.residency?.allowed,
      retentionDays: plan.retentionDays,
      lock: plan.immutability.lock,
      acknowledgeLockIsIrreversible: plan.immutability.acknowledgeLockIsIrreversible,
      encryptionKey: { keyVaultId: this.keyVault.vault.id, keyName: this.keyVault.key.name, identityId: this.encryptionIdentity.id, dependsOn: [keyAccess] },
      allowedIpRanges: az.allowedIpRanges,
      allowedSubnetIds: jobsSubnets,
      tags,
    });

    this.registry = new ImageRegistry(this, 'Registry', { name: naming.azureContainerRegistryName(plan), resourceGroupName: rg, location, sku: props.registrySku, tags });

    this.environment = new JobsEnvironment(this, 'Environment', {
      name: naming.azureResourceName(plan, 'cae'),
      workspaceName: naming.azureResourceName(plan, 'log'),
      resourceGroupName: rg,
      location,
      infrastructureSubnetId: this.network.appsSubnet.id,
      tags,
    });

    const pgDatasets = plan.datasets.filter((d): d is PostgresDataset => d.kind === 'postgres');
    this.database = new StandbyDatabase(this, 'Database', {
      name: naming.azureResourceName(plan, 'psql', 'standby'),
      resourceGroupName: rg,
      location,
      keyVaultId: this.keyVault.vault.id,
      encryption: { keyVaultKeyId: this.keyVault.key.versionlessId, identityId: this.encryptionIdentity.id },
      databases: [...new Set(pgDatasets.map((d) => d.databaseName))],
      delegatedSubnetId: this.network.databaseSubnet.id,
      privateDnsZoneId: this.network.postgresDnsZone!.id,
      publicNetworkAccess: false,
      ...props.database,
      dependsOn: [keyAccess, this.network.postgresDnsLink!],
      secretDependsOn: this.keyVault.deployerGrants,
      tags,
    });

    // Least privilege, each at the narrowest scope.
    const copyWrite = this.storage.grantReadWrite('CopyIdentityExportsWriter', this.copyIdentity.principalId);
    // Pull only: the copy job runs the jobs image from this registry. Images are mirrored into it by the
    // release step (docs/azure.md "Images live on this side"), not by a nightly job with push rights.
    const copyPull = this.registry.grantPull('CopyIdentityImagePull', this.copyIdentity.principalId);
    const verifyRead = this.storage.grantRead('VerifyIdentityExportsReader', this.verifyIdentity.principalId);
    const verifyRecords = this.storage.grantWritePrefix('VerifyIdentityRecordsWriter', this.verifyIdentity.principalId, naming.VERIFICATIONS_PREFIX);
    const verifySecret = this.database.grantPasswordRead('VerifyIdentityPasswordReader', this.verifyIdentity.principalId);
    const verifyPull = this.registry.grantPull('VerifyIdentityImagePull', this.verifyIdentity.principalId);
    const appPull = this.registry.grantPull('AppIdentityImagePull', this.appIdentity.principalId);
    const appSecret = this.database.grantPasswordRead('AppIdentityPasswordReader', this.appIdentity.principalId);

    const jobsImage = this.registry.imageUri(plan.images.jobs);
    const common = { resourceGroupName: rg, location, environmentId: this.environment.environment.id, registryServer: this.registry.loginServer, image: jobsImage, store: this.storage.storeUrl(), tags };

    this.copyJob = new NightlyCopyJob(this, 'CopyJob', {
      ...common,
      name: naming.azureResourceName(plan, 'caj', 'copy'),
      identity: { id: this.copyIdentity.id, clientId: this.copyIdentity.clientId },
      cronExpression: schedule.copyCronUtc,
      timeoutSeconds: props.copyTimeoutSeconds,
      sourceBucket: naming.exportBucketName(plan),
      sourceRegion: plan.primary.region,
      roleArn: naming.azureReaderRoleArn(plan),
      tokenAudience: az.tokenAudience,
      dependsOn: [copyWrite, copyPull],
    });

    const dbConnection = {
      host: this.database.server.fqdn,
      databaseName: pgDatasets[0]?.databaseName ?? 'postgres',
      datasetDatabases: naming.standbyDatabasesEnv(plan.datasets) || undefined,
      user: this.database.administratorLogin,
      passwordSecretId: this.database.passwordSecret.versionlessId,
    };
    this.verifyJob = new VerifyRestoreJob(this, 'VerifyJob', {
      ...common,
      name: naming.azureResourceName(plan, 'caj', 'verify'),
      identity: { id: this.verifyIdentity.id, clientId: this.verifyIdentity.clientId },
      cronExpression: schedule.verifyCronUtc,
      database: dbConnection,
      // While serving, the nightly job keeps verifying the copies but never restores over live data.
      restore: az.mode === 'standby',
      dependsOn: [verifyRead, verifyRecords, verifySecret, verifyPull],
    });

    this.application = new StandbyApplication(this, 'Application', {
      name: naming.azureResourceName(plan, 'ca', 'app'),
      resourceGroupName: rg,
      environmentId: this.environment.environment.id,
      identityId: this.appIdentity.id,
      registryServer: this.registry.loginServer,
      image: this.registry.imageUri(plan.images.application),
      mode: az.mode,
      targetPort: props.applicationPort,
      environment: { PGHOST: dbConnection.host, PGPORT: '5432', PGDATABASE: dbConnection.databaseName, PGUSER: dbConnection.user, PGSSLMODE: 'require' },
      secretEnvironment: { PGPASSWORD: dbConnection.passwordSecretId },
      dependsOn: [appPull, appSecret],
      tags,
    });

    this.alerts = new CounterpartyAlerts(this, 'Alerts', {
      namePrefix: plan.system,
      resourceGroupName: rg,
      location,
      workspaceId: this.environment.workspace.id,
      staleAfterHours: plan.rpoHours + plan.alarmGraceHours,
      emails: plan.notifications.emails,
      tags,
    });

    const output = (name: string, value: string, description: string) => {
      const o = new TerraformOutput(this, name, { value, description });
      o.overrideLogicalId(name);
      return o;
    };
    output(AZURE_OUTPUTS.copyIdentityPrincipalId, this.copyIdentity.principalId,
      'Principal ID of the copy identity: the `sub` the AWS reader role trusts. Put it in the plan as counterparties.azure.copyIdentityPrincipalId and deploy the AWS stack.');
    output(AZURE_OUTPUTS.copyIdentityClientId, this.copyIdentity.clientId, 'Client ID of the copy identity (AZURE_CLIENT_ID of the copy job).');
    output(AZURE_OUTPUTS.oidcIssuer, naming.azureOidcIssuer(az.tenantId), 'Issuer of the Entra tokens the AWS OIDC provider must trust.');
    output(AZURE_OUTPUTS.tokenAudience, az.tokenAudience, 'Audience the copy identity requests its token for (the AWS role requires it as aud).');
    output(AZURE_OUTPUTS.awsReaderRoleArn, naming.azureReaderRoleArn(plan), 'The AWS role the copy job assumes by web identity.');
    output(AZURE_OUTPUTS.storageAccountName, this.storage.accountName, 'The immutable storage account.');
    output(AZURE_OUTPUTS.exportsStore, this.storage.storeUrl(), 'CP_STORE of the jobs.');
    output(AZURE_OUTPUTS.registryLoginServer, this.registry.loginServer, 'This side\'s container registry.');
    output(AZURE_OUTPUTS.standbyAppFqdn, this.application.app.ingress.fqdn, 'FQDN of the application (external only when mode is active): point DNS here on failover.');
    output(AZURE_OUTPUTS.keyVaultUri, this.keyVault.vault.vaultUri, 'The counterparty Key Vault.');
  }
}
