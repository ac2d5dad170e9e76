/**
 * Shared set-up for the drill and the tests beside it: AWS SDK clients for moto, the Object Lock
 * export bucket with the settings the construct synthesizes (derived from the plan through lib/core:
 * bucket name from naming.exportBucketName, lock mode from immutability.mode, days from
 * retentionDays), and the Azure counterparty container on Azurite.
 */
import { S3Client, CreateBucketCommand, PutObjectLockConfigurationCommand, GetObjectLockConfigurationCommand } from '@aws-sdk/client-s3';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { ContainerSASPermissions, generateBlobSASQueryParameters, StorageSharedKeyCredential } from '@azure/storage-blob';
import { naming, resolvePlan, type ProtectionPlan, type ResolvedPlan } from '../../lib/core';
import { AzureBlobStore } from '../../lib/runtime/stores/azure-blob';
import { referencePlan } from '../../stacks/reference-plan';
import type { AzuriteService } from '../services';

export const MOTO_CREDENTIALS = { accessKeyId: 'testing', secretAccessKey: 'testing' };

export function drillPlan(plan: ProtectionPlan = referencePlan): ResolvedPlan {
  return resolvePlan(plan);
}

export function awsClients(endpoint: string, region: string): { s3: S3Client; ddb: DynamoDBClient } {
  const common = { endpoint, region, credentials: MOTO_CREDENTIALS, maxAttempts: 3 };
  return { s3: new S3Client({ ...common, forcePathStyle: true }), ddb: new DynamoDBClient(common) };
}

/** The environment a job would get to reach moto as "AWS" (for openStore / the CLI / rclone). */
export function motoEnv(endpoint: string, region: string): Record<string, string> {
  return { AWS_ACCESS_KEY_ID: 'testing', AWS_SECRET_ACCESS_KEY: 'testing', AWS_REGION: region, AWS_ENDPOINT_URL_S3: endpoint, AWS_ENDPOINT_URL_DYNAMODB: endpoint };
}

export interface ExportBucketSettings {
  readonly bucket: string;
  readonly mode: 'GOVERNANCE' | 'COMPLIANCE';
  readonly days: number;
}

/** What the ImmutableExportBucket construct synthesizes for this plan, from lib/core only. */
export function exportBucketSettings(plan: ResolvedPlan): ExportBucketSettings {
  return {
    bucket: naming.exportBucketName(plan),
    mode: plan.immutability.mode === 'compliance' ? 'COMPLIANCE' : 'GOVERNANCE',
    days: plan.retentionDays,
  };
}

export async function createExportBucket(s3: S3Client, plan: ResolvedPlan): Promise<ExportBucketSettings> {
  const s = exportBucketSettings(plan);
  await s3.send(new CreateBucketCommand({
    Bucket: s.bucket,
    ObjectLockEnabledForBucket: true, // also turns versioning on
    CreateBucketConfiguration: { LocationConstraint: plan.primary.region as never },
  }));
  await s3.send(new PutObjectLockConfigurationCommand({
    Bucket: s.bucket,
    ObjectLockConfiguration: { ObjectLockEnabled: 'Enabled', Rule: { DefaultRetention: { Mode: s.mode, Days: s.days } } },
  }));
  const got = await s3.send(new GetObjectLockConfigurationCommand({ Bucket: s.bucket }));
  const rule = got.ObjectLockConfiguration?.Rule?.DefaultRetention;
  if (rule?.Mode !== s.mode || rule?.Days !== s.days) throw new Error(`export bucket lock is ${rule?.Mode}/${rule?.Days}, wanted ${s.mode}/${s.days}`);
  return s;
}

export async function createBucket(s3: S3Client, bucket: string, region: string): Promise<void> {
  await s3.send(new CreateBucketCommand({ Bucket: bucket, CreateBucketConfiguration: { LocationConstraint: region as never } }));
}

/** The counterparty container (`naming.AZURE_EXPORTS_CONTAINER`) on Azurite, and a container SAS URL for rclone. */
export async function azureCounterparty(az: AzuriteService, container = naming.AZURE_EXPORTS_CONTAINER): Promise<{ store: AzureBlobStore; sasUrl: string; env: Record<string, string>; url: string }> {
  const store = new AzureBlobStore({ account: az.account, container, endpoint: az.blobEndpoint, accountKey: az.accountKey });
  await store.ensureContainer();
  const sas = generateBlobSASQueryParameters({
    containerName: container,
    permissions: ContainerSASPermissions.parse('racwl'),
    startsOn: new Date(Date.now() - 60_000),
    expiresOn: new Date(Date.now() + 6 * 3600_000),
  }, new StorageSharedKeyCredential(az.account, az.accountKey)).toString();
  return {
    store,
    sasUrl: `${az.blobEndpoint}/${container}?${sas}`,
    env: { CP_AZURE_BLOB_ENDPOINT: az.blobEndpoint, CP_AZURE_BLOB_KEY: az.accountKey },
    url: `azblob://${az.account}/${container}`,
  };
}
