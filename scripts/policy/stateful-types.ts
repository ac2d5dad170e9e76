/**
 * The resource types Counterparty treats as stateful: losing or replacing one
 * loses data, keys or the ability to read copies. Used by the upgrade check,
 * the identity record and the retain/prevent_destroy walk. Plain data: no
 * engine imports, so scripts and tests of every engine can use it.
 *
 * `policy/terraform/stateful.guard` lists the same Terraform types; a test
 * (test/policy/terraform-policy.test.ts) keeps the two lists equal.
 */

/** CloudFormation types whose deletion or replacement loses data or keys. */
export const STATEFUL_CFN_TYPES: readonly string[] = [
  'AWS::S3::Bucket',
  'AWS::KMS::Key',
  'AWS::DynamoDB::Table',
  'AWS::DynamoDB::GlobalTable',
  'AWS::Backup::BackupVault',
  'AWS::Backup::LogicallyAirGappedBackupVault',
  'AWS::Logs::LogGroup',
  'AWS::ECR::Repository',
  'AWS::SecretsManager::Secret',
  'AWS::RDS::DBCluster',
  'AWS::RDS::DBInstance',
  'AWS::EFS::FileSystem',
];

/** Terraform types whose destruction or replacement loses data or keys. */
export const STATEFUL_TERRAFORM_TYPES: readonly string[] = [
  'google_storage_bucket',
  'google_kms_key_ring',
  'google_kms_crypto_key',
  'google_sql_database_instance',
  'google_sql_database',
  'google_secret_manager_secret',
  'google_artifact_registry_repository',
  'azurerm_resource_group',
  'azurerm_storage_account',
  'azurerm_storage_container',
  'azurerm_key_vault',
  'azurerm_key_vault_key',
  'azurerm_key_vault_secret',
  'azurerm_postgresql_flexible_server',
  'azurerm_postgresql_flexible_server_database',
  'azurerm_container_registry',
  'azurerm_log_analytics_workspace',
];

/**
 * Properties whose change makes CloudFormation replace a stateful resource
 * ("Update requires: Replacement" in the CloudFormation resource reference).
 * AWS::KMS::Key has none: a key is replaced only when its logical ID or type changes.
 */
export const CFN_REPLACEMENT_PROPERTIES: Readonly<Record<string, readonly string[]>> = {
  'AWS::S3::Bucket': ['BucketName', 'ObjectLockEnabled'],
  'AWS::DynamoDB::Table': ['TableName', 'KeySchema'],
  'AWS::DynamoDB::GlobalTable': ['TableName', 'KeySchema'],
  'AWS::KMS::Key': [],
  'AWS::Backup::BackupVault': ['BackupVaultName', 'EncryptionKeyArn'],
  'AWS::Backup::LogicallyAirGappedBackupVault': ['BackupVaultName', 'MinRetentionDays', 'MaxRetentionDays'],
  'AWS::Logs::LogGroup': ['LogGroupName'],
  'AWS::IAM::Role': ['RoleName', 'Path'],
  'AWS::ECR::Repository': ['RepositoryName'],
  'AWS::SecretsManager::Secret': ['Name'],
  'AWS::RDS::DBCluster': ['DBClusterIdentifier', 'Engine', 'StorageEncrypted', 'KmsKeyId', 'DatabaseName'],
  'AWS::RDS::DBInstance': ['DBInstanceIdentifier', 'KmsKeyId', 'StorageEncrypted'],
};

/**
 * Attributes whose change forces Terraform to destroy and re-create the
 * resource (ForceNew in the provider schema), for the stateful types.
 * Paths are dotted into the cdk.tf.json resource body.
 */
export const TERRAFORM_FORCE_NEW_ATTRIBUTES: Readonly<Record<string, readonly string[]>> = {
  google_storage_bucket: ['name', 'location', 'project'],
  google_kms_key_ring: ['name', 'location', 'project'],
  google_kms_crypto_key: ['name', 'key_ring', 'skip_initial_version_creation', 'import_only'],
  google_sql_database_instance: ['name', 'region', 'project', 'encryption_key_name', 'master_instance_name'],
  google_sql_database: ['name', 'instance', 'project'],
  google_secret_manager_secret: ['secret_id', 'project', 'replication'],
  google_artifact_registry_repository: ['repository_id', 'location', 'format', 'project', 'kms_key_name'],
  azurerm_storage_account: ['name', 'location', 'resource_group_name', 'account_kind', 'infrastructure_encryption_enabled', 'is_hns_enabled'],
  azurerm_storage_container: ['name', 'storage_account_id', 'storage_account_name'],
  azurerm_key_vault: ['name', 'location', 'resource_group_name', 'tenant_id'],
  azurerm_key_vault_key: ['name', 'key_vault_id', 'key_type', 'curve'],
  azurerm_key_vault_secret: ['name', 'key_vault_id'],
  azurerm_postgresql_flexible_server: ['name', 'location', 'resource_group_name', 'delegated_subnet_id', 'private_dns_zone_id'],
  azurerm_postgresql_flexible_server_database: ['name', 'server_id', 'charset', 'collation'],
  azurerm_container_registry: ['name', 'location', 'resource_group_name'],
};
