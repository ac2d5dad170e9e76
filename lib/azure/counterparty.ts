/**
 * `AzureCounterparty`: the whole Azure counterparty of one protection plan,
 * composed from the constructs of this folder. Every name comes from the
 * naming contract, so the AWS half (built independently from the same plan)
 * trusts exactly the identity, issuer and audience used here.
 */
import { Construct } from 'constructs';
import { Annotations, TerraformOutput } from 'cdktf';
import { annotateMonthlyEstimate, annotatePlanWarnings } from '../terraform/plan-warnings';
import { counterpartySchedule, DEFAULTS, naming, resolvePlan, type PostgresDataset, type ProtectionPlan } from '../core';
import { AwsFederationApplication } from './federation';
import { CounterpartyResourceGroup, WorkloadIdentity } from './foundation';
import { CounterpartyKeyVault } from './key-vault';
import { CounterpartyNetwork, type CounterpartyNetworkProps } from './network';
import { ImmutableStorageAccount } from './storage';
import { ImageRegistry } from './registry';
import { JobsEnvironment } from './environment';
import { ImageMirrorJob, NightlyCopyJob, PruneJob, VerifyRestoreJob, type TrustedFederation } from './jobs';
import { StandbyApplication, StandbyDatabase } from './standby';
import { CounterpartyAlerts } from './alerts';

/** Stable Terraform output names (the AWS half and the docs refer to them). */
export const AZURE_OUTPUTS = {
  copyIdentityPrincipalId: 'copy_identity_principal_id',
  copyIdentityClientId: 'copy_identity_client_id',
  mirrorIdentityPrincipalId: 'mirror_identity_principal_id',
  federationApplicationClientId: 'federation_application_client_id',
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
  /**
   * Copy jobs that run in parallel, each on its shard of the blobs (`CP_SHARD=i/n`, data phase), followed by
   * one job that copies the manifests, so a 50 TB seed or a 10 M-object night does not hang on one replica
   * (docs/azure.md "Copy throughput"). 1: a single job copies data, then manifests.
   * @default 4
   */
  readonly copyShards?: number;
  /**
   * Run the prune job in dry-run mode (report only).
   * @default false
   */
  readonly pruneDryRun?: boolean;
  /**
   * Day-one deploy with an empty registry: no Container Apps job or app is created (docs/azure.md "Bootstrap").
   * @default - the plan's counterparties.azure.bootstrap (false)
   */
  readonly bootstrap?: boolean;
}

/** The login the standby application uses (never the restore/admin login). */
export const APPLICATION_DB_LOGIN = 'cp_app';

/** A daily 5-field cron `minutes` earlier (same days). */
function minutesBefore(cron: string, minutes: number): string {
  const [m, h, ...days] = cron.split(' ');
  const t = (Number(h) * 60 + Number(m) - minutes + 1440) % 1440;
  return [String(t % 60), String(Math.floor(t / 60)), ...days].join(' ');
}

/** The blob prefix prune may delete under (format v2 content-addressed blobs). */
export const PRUNABLE_PREFIX = 'blobs/';

/** The Azure counterparty: immutable copies, keyless nightly copy, verification, standby and alerts. */
export class AzureCounterparty extends Construct {
  public readonly resourceGroup: CounterpartyResourceGroup;
  public readonly copyIdentity: WorkloadIdentity;
  public readonly verifyIdentity: WorkloadIdentity;
  public readonly appIdentity: WorkloadIdentity;
  public readonly encryptionIdentity: WorkloadIdentity;
  public readonly mirrorIdentity: WorkloadIdentity;
  public readonly pruneIdentity: WorkloadIdentity;
  public readonly federation: AwsFederationApplication;
  public readonly network: CounterpartyNetwork;
  public readonly keyVault: CounterpartyKeyVault;
  public readonly storage: ImmutableStorageAccount;
  public readonly registry: ImageRegistry;
  public readonly environment: JobsEnvironment;
  public readonly database: StandbyDatabase;
  /** The first copy shard (all shards: `copyJobs`); undefined while bootstrapping. */
  public readonly copyJob?: NightlyCopyJob;
  public readonly copyJobs: NightlyCopyJob[] = [];
  /** With several shards: the job that copies the manifests after the data (also in `copyJobs`). */
  public readonly copyManifestsJob?: NightlyCopyJob;
  public readonly verifyJob?: VerifyRestoreJob;
  public readonly mirrorJob?: ImageMirrorJob;
  public readonly pruneJob?: PruneJob;
  public readonly application?: StandbyApplication;
  public readonly alerts: CounterpartyAlerts;

  constructor(scope: Construct, id: string, props: AzureCounterpartyProps) {
    super(scope, id);
    const plan = resolvePlan(props.plan);
    const az = plan.counterparties.azure;
    if (!az) {
      throw new Error(`${this.node.path}: plan.counterparties.azure = (not set): the plan has no Azure counterparty. Fix: add counterparties.azure { subscriptionId, tenantId, location }, or don't create AzureCounterparty.`);
    }
    annotatePlanWarnings(this, plan.warnings);
    annotateMonthlyEstimate(this, props.plan, 'azure');
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
    // The mirror identity's principal ID is the `sub` the AWS ECR-pull role trusts: never replace it either.
    this.mirrorIdentity = identity('MirrorIdentity', naming.azureResourceName(plan, 'id', 'mirror'), true);
    this.pruneIdentity = identity('PruneIdentity', naming.azureResourceName(plan, 'id', 'prune'));

    // Federation: the app registration whose Application ID URI is the audience AWS trusts (v1 tokens).
    const audience = naming.azureFederationAudience(plan);
    this.federation = new AwsFederationApplication(this, 'Federation', {
      audience,
      displayName: `${plan.system} Counterparty AWS federation`,
      assignees: { copy: this.copyIdentity, mirror: this.mirrorIdentity },
      existing: az.federationApplicationClientId ? { clientId: az.federationApplicationClientId } : undefined,
    });
    const issuer = naming.azureOidcIssuer(az.tenantId);
    const trustedBy = (subject: string | undefined): TrustedFederation => ({ issuer, audience, subject });

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
      // Container Apps is not a Key Vault trusted service: its secret references go through a private endpoint.
      privateEndpoint: { subnetId: this.network.endpointsSubnet.id, virtualNetworkId: this.network.network.id },
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
    // One standby server for every postgres dataset: the newest major version among them (a dump restores
    // into the same or a newer server), and every extension any of them uses.
    const engineVersion = Math.max(...pgDatasets.map((d) => d.engineVersion ?? DEFAULTS.postgresEngineVersion), DEFAULTS.postgresEngineVersion);
    const extensions = [...new Set(pgDatasets.flatMap((d) => d.extensions ?? []))];
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
      version: String(engineVersion),
      extensions,
      applicationLogin: APPLICATION_DB_LOGIN,
      ...props.database,
      dependsOn: [keyAccess, this.network.postgresDnsLink!],
      secretDependsOn: this.keyVault.deployerGrants,
      tags,
    });

    // Least privilege, each at the narrowest scope.
    const copyWrite = this.storage.grantReadWrite('CopyIdentityExportsWriter', this.copyIdentity.principalId);
    const copyPull = this.registry.grantPull('CopyIdentityImagePull', this.copyIdentity.principalId);
    const verifyRead = this.storage.grantRead('VerifyIdentityExportsReader', this.verifyIdentity.principalId);
    const verifyRecords = this.storage.grantWritePrefix('VerifyIdentityRecordsWriter', this.verifyIdentity.principalId, naming.VERIFICATIONS_PREFIX);
    const verifySecret = this.database.grantPasswordRead('VerifyIdentityPasswordReader', this.verifyIdentity.principalId);
    // The restore (re)creates the application login, so it reads that password too.
    const verifyAppSecret = this.database.grantApplicationPasswordRead('VerifyIdentityAppPasswordReader', this.verifyIdentity.principalId);
    const verifyPull = this.registry.grantPull('VerifyIdentityImagePull', this.verifyIdentity.principalId);
    const appPull = this.registry.grantPull('AppIdentityImagePull', this.appIdentity.principalId);
    const appSecret = this.database.grantApplicationPasswordRead('AppIdentityPasswordReader', this.appIdentity.principalId);
    // The standby app serves recordings from the vault: read-only, on the exports container only.
    const appRead = this.storage.grantRead('AppIdentityExportsReader', this.appIdentity.principalId);
    // The mirror pushes the plan's images (AcrPush includes pull) on this registry only.
    const mirrorPush = this.registry.grantPush('MirrorIdentityImagePush', this.mirrorIdentity.principalId);
    // Prune reads everything (to know what is referenced) and may delete under the blob prefix only.
    const pruneRead = this.storage.grantRead('PruneIdentityExportsReader', this.pruneIdentity.principalId);
    const pruneDelete = this.storage.grantWritePrefix('PruneIdentityBlobsWriter', this.pruneIdentity.principalId, PRUNABLE_PREFIX);
    const prunePull = this.registry.grantPull('PruneIdentityImagePull', this.pruneIdentity.principalId);

    const bootstrap = props.bootstrap ?? az.bootstrap ?? false;
    const dbConnection = {
      host: this.database.server.fqdn,
      databaseName: pgDatasets[0]?.databaseName ?? 'postgres',
      datasetDatabases: naming.standbyDatabasesEnv(plan.datasets) || undefined,
      user: this.database.administratorLogin,
      passwordSecretId: this.database.passwordSecret.versionlessId,
      application: { user: APPLICATION_DB_LOGIN, passwordSecretId: this.database.applicationPasswordSecret!.versionlessId },
    };
    if (bootstrap) {
      Annotations.of(this).addWarning('counterparties.azure.bootstrap is true: no Container Apps job or application is created. Import the jobs image into the registry once (docs/azure.md "Bootstrap"), then set bootstrap to false and deploy again; the mirror job keeps the registry current from then on.');
    } else {
      const jobsImage = this.registry.imageUri(plan.images.jobs);
      const common = { resourceGroupName: rg, location, environmentId: this.environment.environment.id, registryServer: this.registry.loginServer, image: jobsImage, store: this.storage.storeUrl(), tags };
      const shards = props.copyShards ?? 4;
      if (!Number.isInteger(shards) || shards < 1 || shards > 64) {
        throw new Error(`${this.node.path}: copyShards = ${shards}: is not a number of parallel copy jobs. Fix: give a whole number from 1 to 64 (default 4).`);
      }
      const copyCommon = {
        ...common,
        identity: { id: this.copyIdentity.id, clientId: this.copyIdentity.clientId },
        sourceBucket: naming.exportBucketName(plan),
        sourceRegion: plan.primary.region,
        roleArn: naming.azureReaderRoleArn(plan),
        tokenAudience: audience,
        trusted: trustedBy(az.copyIdentityPrincipalId),
        dependsOn: [copyWrite, copyPull, this.federation.assignments.copy],
      };
      for (let index = 0; index < shards; index++) {
        // Shard 0 keeps the construct ID and name of the single copy job it replaces.
        const job = new NightlyCopyJob(this, index === 0 ? 'CopyJob' : `CopyJob-${index}`, {
          ...copyCommon,
          name: naming.azureResourceName(plan, 'caj', index === 0 ? 'copy' : `copy-${index}`),
          cronExpression: schedule.copyCronUtc,
          timeoutSeconds: props.copyTimeoutSeconds,
          shard: { index, count: shards },
          phase: shards > 1 ? 'data' : 'all',
        });
        this.copyJobs.push(job);
      }
      this.copyJob = this.copyJobs[0];
      if (shards > 1) {
        // The manifests go last, 10 minutes before the verifier: a night whose data a slow shard is still
        // copying then reads as pending (retried next run), never as verified or failed.
        this.copyManifestsJob = new NightlyCopyJob(this, 'CopyManifestsJob', {
          ...copyCommon,
          name: naming.azureResourceName(plan, 'caj', 'copy-manifests'),
          cronExpression: minutesBefore(schedule.verifyCronUtc, 10),
          timeoutSeconds: 3600,
          phase: 'manifests',
        });
        this.copyJobs.push(this.copyManifestsJob);
      }

      this.verifyJob = new VerifyRestoreJob(this, 'VerifyJob', {
        ...common,
        name: naming.azureResourceName(plan, 'caj', 'verify'),
        identity: { id: this.verifyIdentity.id, clientId: this.verifyIdentity.clientId },
        cronExpression: schedule.verifyCronUtc,
        database: dbConnection,
        // While serving, the nightly job keeps verifying the copies but never restores over live data.
        restore: az.mode === 'standby',
        freshness: { rpoHours: plan.rpoHours, alarmGraceHours: plan.alarmGraceHours, datasets: plan.datasets.map((d) => `${d.name}:${d.kind}${d.allowEmpty ? ':allowEmpty' : ''}`).join(',') },
        // A job that reads secrets starts only once the secrets, its grants and the private path to the vault exist.
        dependsOn: [verifyRead, verifyRecords, verifySecret, verifyAppSecret, verifyPull, this.database.passwordSecret, this.database.applicationPasswordSecret!, ...this.keyVault.privateAccess],
      });

      this.mirrorJob = new ImageMirrorJob(this, 'MirrorJob', {
        ...common,
        name: naming.azureResourceName(plan, 'caj', 'mirror'),
        identity: { id: this.mirrorIdentity.id, clientId: this.mirrorIdentity.clientId },
        cronExpression: schedule.copyCronUtc,
        timeoutSeconds: 7200,
        sourceRegistry: `${plan.primary.account}.dkr.ecr.${plan.primary.region}.amazonaws.com`,
        images: [plan.images.application, plan.images.jobs],
        keepReleases: plan.images.keepReleases,
        sourceRegion: plan.primary.region,
        roleArn: naming.azureMirrorRoleArn(plan),
        tokenAudience: audience,
        trusted: trustedBy(az.mirrorIdentityPrincipalId),
        dependsOn: [mirrorPush, this.federation.assignments.mirror],
      });

      this.pruneJob = new PruneJob(this, 'PruneJob', {
        ...common,
        name: naming.azureResourceName(plan, 'caj', 'prune'),
        identity: { id: this.pruneIdentity.id, clientId: this.pruneIdentity.clientId },
        cronExpression: schedule.verifyCronUtc,
        dryRun: props.pruneDryRun,
        dependsOn: [pruneRead, pruneDelete, prunePull],
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
        allowedIpRanges: az.applicationAllowedIpRanges ?? az.allowedIpRanges,
        publicIngress: az.applicationPublicIngress,
        environment: { PGHOST: dbConnection.host, PGPORT: '5432', PGDATABASE: dbConnection.databaseName, PGUSER: APPLICATION_DB_LOGIN, PGSSLMODE: 'require', CP_STORE: this.storage.storeUrl() },
        secretEnvironment: { PGPASSWORD: this.database.applicationPasswordSecret!.versionlessId },
        dependsOn: [appPull, appSecret, appRead, this.database.applicationPasswordSecret!, ...this.keyVault.privateAccess],
        tags,
      });
    }

    this.alerts = new CounterpartyAlerts(this, 'Alerts', {
      namePrefix: plan.system,
      resourceGroupName: rg,
      location,
      workspaceId: this.environment.workspace.id,
      staleAfterHours: plan.rpoHours + plan.alarmGraceHours,
      restoreExpected: az.mode === 'standby',
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
    output(AZURE_OUTPUTS.mirrorIdentityPrincipalId, this.mirrorIdentity.principalId,
      'Principal ID of the image-mirror identity: the `sub` the AWS ECR-pull role trusts. Put it in the plan as counterparties.azure.mirrorIdentityPrincipalId and deploy the AWS stack.');
    output(AZURE_OUTPUTS.federationApplicationClientId, this.federation.clientId, 'Client ID of the Entra app registration whose Application ID URI is the AWS audience.');
    output(AZURE_OUTPUTS.oidcIssuer, issuer, 'Issuer of the Entra tokens the AWS OIDC provider must trust (v1 tokens).');
    output(AZURE_OUTPUTS.tokenAudience, audience, 'Audience the copy and mirror identities request their tokens for: the Application ID URI (the AWS role requires it as aud).');
    output(AZURE_OUTPUTS.awsReaderRoleArn, naming.azureReaderRoleArn(plan), 'The AWS role the copy job assumes by web identity.');
    output(AZURE_OUTPUTS.storageAccountName, this.storage.accountName, 'The immutable storage account.');
    output(AZURE_OUTPUTS.exportsStore, this.storage.storeUrl(), 'CP_STORE of the jobs.');
    output(AZURE_OUTPUTS.registryLoginServer, this.registry.loginServer, 'This side\'s container registry.');
    if (this.application) output(AZURE_OUTPUTS.standbyAppFqdn, this.application.app.ingress.fqdn, 'FQDN of the application (external only when mode is active): point DNS here on failover.');
    output(AZURE_OUTPUTS.keyVaultUri, this.keyVault.vault.vaultUri, 'The counterparty Key Vault.');
  }
}
