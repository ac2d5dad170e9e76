/**
 * The naming contract: every name that crosses from one engine to another is
 * derived here, deterministically, from the plan. The aws-cdk app and the
 * cdktf app each call these functions on the same plan and so agree with no
 * cross-engine references. Changing a derivation renames (and so replaces)
 * deployed resources: treat this module's outputs as a stable, versioned API.
 */
import type { Dataset, ProtectionPlan } from './plan';

/** Bumped only with a documented migration. */
export const NAMING_CONTRACT_VERSION = 1;

type PlanLike = Pick<ProtectionPlan, 'system' | 'primary'>;

/** Lowercase letters and digits only (for Azure storage accounts and the like). */
export function alphanumeric(text: string): string {
  return text.toLowerCase().replace(/[^a-z0-9]/g, '');
}

// ---------------------------------------------------------------- AWS primary

/** The immutable export bucket (S3 Object Lock) that every counterparty reads. */
export function exportBucketName(plan: PlanLike): string {
  return `${plan.system}-exports-${plan.primary.account}-${plan.primary.region}`;
}

/** The export bucket's server access log bucket (an Object Lock bucket can't log to itself). */
export function accessLogBucketName(plan: PlanLike): string {
  return `${plan.system}-access-logs-${plan.primary.account}-${plan.primary.region}`;
}

/** KMS alias of the export bucket's key. */
export function exportKeyAlias(plan: PlanLike): string {
  return `alias/${plan.system}/exports`;
}

/** KMS alias of the AWS Backup vault's key. */
export function backupVaultKeyAlias(plan: PlanLike): string {
  return `alias/${plan.system}/backup-vault`;
}

export function backupVaultName(plan: PlanLike): string {
  return `${plan.system}-vault`;
}

/** IAM role that the GCP Storage Transfer Service assumes (keyless) to read the export bucket. */
export function gcpReaderRoleName(plan: PlanLike): string {
  return `${plan.system}-gcp-reader`;
}

/** IAM role that the Azure copy job's managed identity assumes (keyless) to read the export bucket. */
export function azureReaderRoleName(plan: PlanLike): string {
  return `${plan.system}-azure-reader`;
}

/** Path for the counterparty reader roles. */
export const READER_ROLE_PATH = '/counterparty/';

export function roleArn(plan: PlanLike, roleName: string): string {
  return `arn:aws:iam::${plan.primary.account}:role${READER_ROLE_PATH}${roleName}`;
}

export function gcpReaderRoleArn(plan: PlanLike): string {
  return roleArn(plan, gcpReaderRoleName(plan));
}

export function azureReaderRoleArn(plan: PlanLike): string {
  return roleArn(plan, azureReaderRoleName(plan));
}

/** The OIDC issuer of Entra tokens that the AWS side trusts for the Azure copy identity (v1 token issuer). */
export function azureOidcIssuer(tenantId: string): string {
  return `https://sts.windows.net/${tenantId}/`;
}

/** The issuer without scheme, as IAM uses it in condition keys (`sts.windows.net/<tenant>/:sub`). */
export function azureOidcIssuerHost(tenantId: string): string {
  return azureOidcIssuer(tenantId).replace(/^https:\/\//, '');
}

/**
 * Microsoft's reserved audience for exchanging a managed-identity token under a federated identity
 * credential. Tokens for it carry the v2.0 issuer (`https://login.microsoftonline.com/<tenant>/v2.0`),
 * not the v1 issuer AWS trusts, and no app registration can own it: it is never the AWS audience.
 */
export const AZURE_TOKEN_EXCHANGE_AUDIENCE = 'api://AzureADTokenExchange';

type AzureFederationPlanLike = Pick<ProtectionPlan, 'system'> & { readonly counterparties?: { readonly azure?: { readonly tokenAudience?: string } } };

/**
 * The audience AWS trusts for Azure tokens, which is also the Application ID URI of the counterparty's
 * Entra app registration (a v1 token requested for it has `aud` = this URI): the plan's
 * `counterparties.azure.tokenAudience`, or `api://<system>-aws-federation`. The reserved
 * {@link AZURE_TOKEN_EXCHANGE_AUDIENCE} (the old default) counts as not set.
 */
export function azureFederationAudience(plan: AzureFederationPlanLike): string {
  const given = plan.counterparties?.azure?.tokenAudience;
  return given && given !== AZURE_TOKEN_EXCHANGE_AUDIENCE ? given : `api://${plan.system}-aws-federation`;
}

/** The app role the copy and mirror identities are assigned (its `value`; v1 app tokens list it in `roles`). */
export const AZURE_FEDERATION_APP_ROLE = 'AssumeRoleWithWebIdentity';

/** IAM role that the Azure image-mirror job's managed identity assumes (keyless) to pull from ECR only. */
export function azureMirrorRoleName(plan: PlanLike): string {
  return `${plan.system}-azure-mirror`;
}

export function azureMirrorRoleArn(plan: PlanLike): string {
  return roleArn(plan, azureMirrorRoleName(plan));
}

/** The OIDC issuer Google signs Storage Transfer Service identity tokens with. */
export const GCP_OIDC_ISSUER = 'accounts.google.com';

// ---------------------------------------------------- image mirror (ECR pull)

/** The primary's ECR registry host: `<account>.dkr.ecr.<region>.amazonaws.com` (the mirror's source). */
export function ecrRegistryHost(plan: PlanLike): string {
  return `${plan.primary.account}.dkr.ecr.${plan.primary.region}.amazonaws.com`;
}

/**
 * IAM role the counterparties' image mirrors assume (keyless, web identity) to pull from ECR only.
 * One role per counterparty, so neither can read the export bucket through it.
 */
export function imageMirrorRoleName(plan: PlanLike, cloud: 'gcp' | 'azure'): string {
  return `${plan.system}-${cloud}-image-mirror`;
}

export function imageMirrorRoleArn(plan: PlanLike, cloud: 'gcp' | 'azure'): string {
  return roleArn(plan, imageMirrorRoleName(plan, cloud));
}

/** Account ID of the GCP image-mirror service account (`<system>-images`); its e-mail is `<id>@<project>.iam.gserviceaccount.com`. */
export function gcpImageMirrorServiceAccountId(plan: Pick<ProtectionPlan, 'system'>): string {
  return `${plan.system}-images`;
}

/**
 * The `aud` the GCP mirror requests its Google ID token for (metadata server `identity?audience=`).
 * AWS sees it as `accounts.google.com:oaud`; `accounts.google.com:aud` and `:sub` are both the
 * service account's numeric unique ID (the token's `azp` and `sub`), the GCP stack's output
 * `image_mirror_subject_id`, which the plan carries as `counterparties.gcp.imageMirrorSubjectId`.
 */
export function gcpImageMirrorTokenAudience(plan: PlanLike): string {
  return `sts.amazonaws.com/${plan.primary.account}/${imageMirrorRoleName(plan, 'gcp')}`;
}

/**
 * Trust conditions (StringEquals) of the GCP image-mirror role, for `accounts.google.com`:
 * the token's azp (`:aud`) and sub are the mirror service account's unique ID; its aud (`:oaud`) is
 * {@link gcpImageMirrorTokenAudience}. See docs/gcp.md "Image mirror".
 */
export function gcpImageMirrorTrustConditions(plan: PlanLike, mirrorSubjectId: string): Record<string, string> {
  return {
    [`${GCP_OIDC_ISSUER}:aud`]: mirrorSubjectId,
    [`${GCP_OIDC_ISSUER}:sub`]: mirrorSubjectId,
    [`${GCP_OIDC_ISSUER}:oaud`]: gcpImageMirrorTokenAudience(plan),
  };
}

// ------------------------------------------------------ export bucket layout

/** A night is identified by its UTC date, `YYYY-MM-DD`. */
export function nightId(date: Date): string {
  if (!(date instanceof Date) || Number.isNaN(date.getTime())) throw new Error(`nightId: not a valid date: ${String(date)}`);
  return date.toISOString().slice(0, 10);
}

const NIGHT_RE = /^\d{4}-\d{2}-\d{2}$/;

export function isNightId(text: string): boolean {
  return NIGHT_RE.test(text) && !Number.isNaN(Date.parse(`${text}T00:00:00Z`)) && new Date(`${text}T00:00:00Z`).toISOString().startsWith(text);
}

function assertNight(night: string): void {
  if (!isNightId(night)) throw new Error(`not a night ID (YYYY-MM-DD): ${JSON.stringify(night)}`);
}

/** Everything the nightly job writes for one night (dumps, exports, configuration, the manifest). */
export const NIGHTS_PREFIX = 'nights/';

/**
 * Extra days every site keeps `nights/` past `retentionDays`: a format-v2 night's view is its dataset's
 * checkpoint plus change runs, and the checkpoint may be up to 6 nights older than the night (one every
 * 7 nights, `CHECKPOINT_EVERY_NIGHTS` in lib/runtime/format), so the oldest retained night still needs
 * index files up to 7 days older than itself (docs/runtime.md "Retention note"). Prune keeps blobs by
 * the same rule.
 */
export const NIGHTS_EXPIRY_EXTRA_DAYS = 7;

/**
 * Objects of `s3Bucket` datasets are copied once, under a stable key, and
 * overwritten only when they change, so a night moves only what changed.
 */
export const OBJECTS_PREFIX = 'objects/';

/**
 * Format v2: content-addressed objects of `s3Bucket` datasets, `blobs/sha256/<first 2 hex>/<sha256>`.
 * Written once, never overwritten, deleted only by `prune` (docs/runtime.md "Format v2").
 */
export const BLOBS_PREFIX = 'blobs/sha256/';

const SHA256_HEX = /^[0-9a-f]{64}$/;

/** The key of the blob holding the bytes whose SHA-256 (lower-case hex) is `sha256`. */
export function blobKey(sha256: string): string {
  if (!SHA256_HEX.test(sha256)) throw new Error(`blobKey: not a lower-case hex SHA-256: ${JSON.stringify(sha256)}`);
  return `${BLOBS_PREFIX}${sha256.slice(0, 2)}/${sha256}`;
}

/** The SHA-256 a blob key names, or undefined when `key` is not a blob key. */
export function blobSha256(key: string): string | undefined {
  const m = /^blobs\/sha256\/([0-9a-f]{2})\/([0-9a-f]{64})$/.exec(key);
  return m && m[2].startsWith(m[1]) ? m[2] : undefined;
}

/** Format v2: where an `s3Bucket` dataset's index for a night lands: `nights/<night>/<dataset>/index/`. */
export function datasetIndexPrefix(night: string, datasetName: string): string {
  return `${datasetNightPrefix(night, datasetName)}index/`;
}

/** Verification records written by counterparties (on their own side). */
export const VERIFICATIONS_PREFIX = 'verifications/';

export function nightPrefix(night: string): string {
  assertNight(night);
  return `${NIGHTS_PREFIX}${night}/`;
}

/** Where a non-S3 dataset's export for a night lands: `nights/<night>/<dataset>/`. */
export function datasetNightPrefix(night: string, datasetName: string): string {
  return `${nightPrefix(night)}${datasetName}/`;
}

/** Format v1 only (no deployment holds v1 data): where an `s3Bucket` dataset's objects landed. Format v2 uses {@link blobKey}. */
export function datasetObjectsPrefix(datasetName: string): string {
  return `${OBJECTS_PREFIX}${datasetName}/`;
}

/**
 * The prefix a dataset's files for a night live under, for any kind (format v2): `nights/<night>/<dataset>/`.
 * An `s3Bucket` dataset keeps only its index there; its bytes are blobs ({@link blobKey}).
 */
export function datasetPrefix(night: string, dataset: Pick<Dataset, 'kind' | 'name'>): string {
  return datasetNightPrefix(night, dataset.name);
}

/** The per-night manifest: every object with key, size and SHA-256, chained to the previous night. */
export function manifestKey(night: string): string {
  return `${nightPrefix(night)}manifest.json`;
}

/** The key of the pg_dump custom-format archive of a postgres dataset. */
export function postgresDumpKey(night: string, datasetName: string): string {
  return `${datasetNightPrefix(night, datasetName)}dump.pgdump`;
}

/**
 * The key schema of a `dynamoDbTable` dataset's table for a night (`DescribeTable`'s KeySchema and the
 * key attributes' types), written beside the export so a restore knows the key columns without AWS.
 */
export function dynamoDbTableSchemaKey(night: string, datasetName: string): string {
  return `${datasetNightPrefix(night, datasetName)}table.json`;
}

/**
 * `CP_PG_DATABASES` for a counterparty's restorer: each postgres dataset is restored into the database
 * it has on the primary (`dataset=database;…`), so the standby application finds it under the same name.
 */
export function standbyDatabasesEnv(datasets: readonly Dataset[]): string {
  return datasets.flatMap((d) => (d.kind === 'postgres' ? [`${d.name}=${d.databaseName}`] : [])).join(';');
}

/** The index file of a Connect configuration export. */
export function connectIndexKey(night: string, datasetName: string): string {
  return `${datasetNightPrefix(night, datasetName)}index.json`;
}

/** A counterparty's verification record for a night. */
export function verificationRecordKey(night: string): string {
  assertNight(night);
  return `${VERIFICATIONS_PREFIX}${night}.json`;
}

// ------------------------------------------------------------- counterparties

/** GCS vault bucket (global namespace): `<system>-vault-<project>`. */
export function gcsVaultBucketName(plan: Pick<ProtectionPlan, 'system'>, projectId: string): string {
  return `${plan.system}-vault-${projectId}`;
}

export function gcpKeyRingName(plan: Pick<ProtectionPlan, 'system'>): string {
  return `${plan.system}-counterparty`;
}

export function gcpKeyName(plan: Pick<ProtectionPlan, 'system'>): string {
  return `${plan.system}-vault-key`;
}

/** GCP service account ID (6-30 chars) for a role, e.g. `verify`, `app`. */
export function gcpServiceAccountId(plan: Pick<ProtectionPlan, 'system'>, role: string): string {
  return `${plan.system}-${role}`;
}

export function gcpArtifactRepositoryId(plan: Pick<ProtectionPlan, 'system'>): string {
  return `${plan.system}-images`;
}

/** Azure resource group of the counterparty. */
export function azureResourceGroupName(plan: Pick<ProtectionPlan, 'system'>): string {
  return `rg-${plan.system}-counterparty`;
}

/** Azure storage account (3-24 lowercase alphanumerics, global namespace): `<system>vault`. */
export function azureStorageAccountName(plan: Pick<ProtectionPlan, 'system'>): string {
  return `${alphanumeric(plan.system)}vault`;
}

/** Azure Key Vault (3-24 alphanumerics and hyphens, global namespace): `kv-<system>`. */
export function azureKeyVaultName(plan: Pick<ProtectionPlan, 'system'>): string {
  return `kv-${plan.system}`;
}

/** Azure Container Registry (5-50 alphanumerics, global namespace): `<system>images`. */
export function azureContainerRegistryName(plan: Pick<ProtectionPlan, 'system'>): string {
  return `${alphanumeric(plan.system)}images`;
}

/** The blob container the exports are copied into. */
export const AZURE_EXPORTS_CONTAINER = 'exports';

/** Azure user-assigned identity of the copy/verify jobs. */
export function azureJobsIdentityName(plan: Pick<ProtectionPlan, 'system'>): string {
  return `id-${plan.system}-jobs`;
}

// -------------------------------------------------------------- name rules

export interface NameRule {
  readonly what: string;
  readonly pattern: RegExp;
  readonly minLength: number;
  readonly maxLength: number;
  readonly describe: string;
}

export const NAME_RULES = {
  s3Bucket: {
    what: 'S3 bucket name', pattern: /^[a-z0-9][a-z0-9.-]*[a-z0-9]$/, minLength: 3, maxLength: 63,
    describe: '3-63 lowercase letters, digits, dots and hyphens, starting and ending with a letter or digit',
  },
  iamRole: {
    what: 'IAM role name', pattern: /^[\w+=,.@-]+$/, minLength: 1, maxLength: 64,
    describe: '1-64 letters, digits and +=,.@_-',
  },
  gcsBucket: {
    what: 'GCS bucket name', pattern: /^(?!goog)(?!.*google)[a-z0-9][a-z0-9_-]*[a-z0-9]$/, minLength: 3, maxLength: 63,
    describe: '3-63 lowercase letters, digits, hyphens and underscores, starting and ending with a letter or digit, not starting with "goog" nor containing "google"',
  },
  gcpServiceAccountId: {
    what: 'GCP service account ID', pattern: /^[a-z][a-z0-9-]*[a-z0-9]$/, minLength: 6, maxLength: 30,
    describe: '6-30 lowercase letters, digits and hyphens, starting with a letter',
  },
  gcpKeyRing: {
    what: 'Cloud KMS key ring name', pattern: /^[a-zA-Z0-9_-]+$/, minLength: 1, maxLength: 63,
    describe: '1-63 letters, digits, hyphens and underscores',
  },
  azureStorageAccount: {
    what: 'Azure storage account name', pattern: /^[a-z0-9]+$/, minLength: 3, maxLength: 24,
    describe: '3-24 lowercase letters and digits',
  },
  azureKeyVault: {
    what: 'Azure Key Vault name', pattern: /^[a-zA-Z](?!.*--)[a-zA-Z0-9-]*[a-zA-Z0-9]$/, minLength: 3, maxLength: 24,
    describe: '3-24 letters, digits and single hyphens, starting with a letter and ending with a letter or digit',
  },
  azureContainerRegistry: {
    what: 'Azure Container Registry name', pattern: /^[a-zA-Z0-9]+$/, minLength: 5, maxLength: 50,
    describe: '5-50 letters and digits',
  },
} satisfies Record<string, NameRule>;

/** Returns why `name` breaks `rule`, or undefined when it follows it. */
export function nameRuleViolation(name: string, rule: NameRule): string | undefined {
  if (name.length < rule.minLength || name.length > rule.maxLength) {
    return `${rule.what} ${JSON.stringify(name)} is ${name.length} characters; it must be ${rule.describe}`;
  }
  if (!rule.pattern.test(name)) return `${rule.what} ${JSON.stringify(name)} is not valid; it must be ${rule.describe}`;
  if (rule === NAME_RULES.s3Bucket && (/\.\./.test(name) || /^\d+\.\d+\.\d+\.\d+$/.test(name) || name.startsWith('xn--') || name.endsWith('-s3alias'))) {
    return `${rule.what} ${JSON.stringify(name)} is not valid; it must be ${rule.describe}, with no '..', not an IP address, not starting 'xn--'`;
  }
  return undefined;
}

// ------------------------------------------------------------------ images

/** `repo:tag` → `repo`. Images in the plan carry no registry host: each side pulls from its own registry. */
export function imageRepository(image: string): string {
  return image.slice(0, image.lastIndexOf(':'));
}

/** `repo:tag` → `tag`. */
export function imageTag(image: string): string {
  return image.slice(image.lastIndexOf(':') + 1);
}

// ------------------------------------------------ Azure names (one engine)

/**
 * Names of Azure resources that no other engine refers to, derived in one
 * place so they stay stable: `<abbreviation>-<system>[-<role>]`, with the
 * Azure Cloud Adoption Framework abbreviations (`id`, `psql`, `cae`, `caj`,
 * `ca`, `log`, `ag`, `vnet`, `snet`, `alert`...). Appended for the Azure counterparty.
 */
export function azureResourceName(plan: Pick<ProtectionPlan, 'system'>, abbreviation: string, role?: string): string {
  return role ? `${abbreviation}-${plan.system}-${role}` : `${abbreviation}-${plan.system}`;
}

// ------------------------------------------------- GCP-internal resource names

/**
 * Name of a GCP counterparty resource that no other engine reads (Pub/Sub topic,
 * transfer job description, Cloud Run job and service, Cloud SQL instance,
 * secrets, log metric): `<system>-<role>`, e.g. `acme-cc-verify`. Kept here so
 * that renames stay deliberate (several of these resources are stateful).
 */
export function gcpResourceName(plan: Pick<ProtectionPlan, 'system'>, role: string): string {
  return `${plan.system}-${role}`;
}
