/**
 * Checks of `counterparties.gcp`.
 */
import * as naming from '../naming';
import type { ProtectionPlan } from '../plan';
import { AWS_REGION_RE, checkRegion, type IssueCollector } from './collector';

const GCP_REGION_RE = /^[a-z]+(-[a-z]+\d+)?$/;
const GCP_PROJECT_RE = /^[a-z][a-z0-9-]{4,28}[a-z0-9]$/;

/** The fields of `counterparties.gcp` (add new ones here). */
export const GCP_FIELDS = ['projectId', 'region', 'storageTransferSubjectId', 'network', 'mode', 'notificationChannels', 'imageMirrorSubjectId', 'bootstrap'];

type Fields = Record<string, unknown>;

/** `pseudo` is the plan when system and primary are valid (names can be derived), else undefined. */
export function checkGcpCounterparty(c: IssueCollector, g: Fields, allowed: readonly string[] | undefined, pseudo: ProtectionPlan | undefined): void {
  c.unknownKeys('counterparties.gcp', g, GCP_FIELDS);
  if (typeof g.projectId !== 'string' || !GCP_PROJECT_RE.test(g.projectId)) {
    c.error('counterparties.gcp.projectId', g.projectId, 'is not a GCP project ID.', 'give the project ID (6-30 lowercase letters, digits and hyphens, starting with a letter).');
  } else if (pseudo) {
    c.name('counterparties.gcp.projectId', naming.gcsVaultBucketName(pseudo, g.projectId), naming.NAME_RULES.gcsBucket,
      'shorten system or use a shorter project ID; the vault bucket is named "<system>-vault-<projectId>".');
  }
  if (typeof g.region !== 'string' || !GCP_REGION_RE.test(g.region) || AWS_REGION_RE.test(g.region)) {
    c.error('counterparties.gcp.region', g.region, 'is not a GCP region.', 'give a region such as "europe-west3".');
  } else checkRegion(c, 'gcp', 'counterparties.gcp.region', g.region, allowed);
  if (g.storageTransferSubjectId === undefined) {
    c.warn('counterparties.gcp.storageTransferSubjectId', undefined, 'is not set, so the AWS reader role for GCP is not created and the nightly pull will fail until it is.',
      'deploy the GCP stack, copy its output storage_transfer_subject_id here, and deploy the AWS stack again.');
  } else if (typeof g.storageTransferSubjectId !== 'string' || !/^\d{10,30}$/.test(g.storageTransferSubjectId)) {
    c.error('counterparties.gcp.storageTransferSubjectId', g.storageTransferSubjectId, 'is not a numeric subject ID.', 'copy the GCP stack output storage_transfer_subject_id (a string of digits).');
  }
  if (g.network !== undefined && (typeof g.network !== 'string' || g.network === '')) c.error('counterparties.gcp.network', g.network, 'must be a VPC network self link or ID.', 'give projects/<p>/global/networks/<name>, or leave it out.');
  if (g.mode !== undefined && g.mode !== 'standby' && g.mode !== 'active') c.error('counterparties.gcp.mode', g.mode, 'is not a mode.', 'use "standby" (default) or "active" (failover).');
  if (g.imageMirrorSubjectId !== undefined && (typeof g.imageMirrorSubjectId !== 'string' || !/^\d{10,30}$/.test(g.imageMirrorSubjectId))) {
    c.error('counterparties.gcp.imageMirrorSubjectId', g.imageMirrorSubjectId, 'is not a numeric subject ID.', 'copy the GCP stack output image_mirror_subject_id (a string of digits).');
  }
  if (g.bootstrap !== undefined && typeof g.bootstrap !== 'boolean') c.error('counterparties.gcp.bootstrap', g.bootstrap, 'must be true or false.', 'set true only for the first deploy with empty registries (docs/gcp.md "Bootstrap").');
  if (g.notificationChannels !== undefined && (!Array.isArray(g.notificationChannels) || g.notificationChannels.some((x) => typeof x !== 'string' || x === ''))) {
    c.error('counterparties.gcp.notificationChannels', g.notificationChannels, 'must be a list of notification channel IDs.', 'give projects/<p>/notificationChannels/<id> strings, or leave it out.');
  }
}
