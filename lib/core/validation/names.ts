/**
 * Checks of the names the naming contract derives from the plan (bucket, role, account names):
 * each must fit its provider's rules.
 */
import * as naming from '../naming';
import type { ProtectionPlan } from '../plan';
import type { IssueCollector } from './collector';

/** The service-account roles the GCP counterparty creates (their IDs must fit GCP's 30-character limit). */
export const GCP_SERVICE_ACCOUNT_ROLES = ['verify', 'app', 'images'] as const;

export function checkDerivedNames(c: IssueCollector, plan: ProtectionPlan): void {
  const shorten = 'shorten system (or the account/region cannot change, so the system name must give way).';
  c.name('system', naming.exportBucketName(plan), naming.NAME_RULES.s3Bucket, shorten);
  c.name('system', naming.accessLogBucketName(plan), naming.NAME_RULES.s3Bucket, shorten);
  c.name('system', naming.gcpReaderRoleName(plan), naming.NAME_RULES.iamRole, 'shorten system.');
  c.name('system', naming.azureReaderRoleName(plan), naming.NAME_RULES.iamRole, 'shorten system.');
  const cp = plan.counterparties as unknown as Record<string, unknown> | undefined;
  if (cp?.gcp) {
    c.name('system', naming.gcpKeyRingName(plan), naming.NAME_RULES.gcpKeyRing, 'shorten system.');
    for (const role of GCP_SERVICE_ACCOUNT_ROLES) {
      c.name('system', naming.gcpServiceAccountId(plan, role), naming.NAME_RULES.gcpServiceAccountId, `shorten system to at most ${30 - role.length - 1} characters; GCP service account IDs are 6-30 characters.`);
    }
  }
  if (cp?.azure) {
    c.name('system', naming.azureStorageAccountName(plan), naming.NAME_RULES.azureStorageAccount,
      'shorten system to at most 19 letters and digits; the storage account is "<system without hyphens>vault", 3-24 lowercase alphanumerics.');
    c.name('system', naming.azureKeyVaultName(plan), naming.NAME_RULES.azureKeyVault, 'shorten system to at most 21 characters with no double hyphen; the Key Vault is "kv-<system>".');
    c.name('system', naming.azureContainerRegistryName(plan), naming.NAME_RULES.azureContainerRegistry, 'shorten system.');
  }
}
