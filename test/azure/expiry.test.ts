/**
 * Storage follows retention on Azure: `nights/` expires retentionDays + 7 (+1) days after creation
 * (the checkpoint of the oldest retained night stays), and the previous versions prune leaves behind
 * are deleted a day after retention, so an erased recording is gone in bounded time. Current blobs
 * under blobs/ are never expired by a rule: only prune decides.
 */
import { naming } from '../../lib/core';
import { only, synthPlan } from './helpers';
import { referencePlan } from '../../stacks/reference-plan';

test('the exports container expires nights/ after retention + the checkpoint margin, and pruned blob versions after retention', () => {
  const s = synthPlan();
  const policy = only(s, 'azurerm_storage_management_policy');
  const days = referencePlan.retentionDays;
  const rules = Object.fromEntries((policy.rule as Record<string, any>[]).map((r) => [r.name, r]));
  expect(rules['expire-nights'].filters).toEqual({ blob_types: ['blockBlob'], prefix_match: [`${naming.AZURE_EXPORTS_CONTAINER}/${naming.NIGHTS_PREFIX}`] });
  expect(rules['expire-nights'].actions.base_blob.delete_after_days_since_creation_greater_than).toBe(days + naming.NIGHTS_EXPIRY_EXTRA_DAYS + 1);
  expect(rules['expire-nights'].actions.version.delete_after_days_since_creation).toBe(days + naming.NIGHTS_EXPIRY_EXTRA_DAYS + 1);
  expect(naming.NIGHTS_EXPIRY_EXTRA_DAYS).toBeGreaterThanOrEqual(7); // CHECKPOINT_EVERY_NIGHTS
  const blobs = rules['expire-pruned-blob-versions'];
  expect(blobs.filters.prefix_match).toEqual([`${naming.AZURE_EXPORTS_CONTAINER}/${naming.BLOBS_PREFIX}`]);
  expect(blobs.actions.version.delete_after_days_since_creation).toBe(days + 1);
  expect(blobs.actions.base_blob).toBeUndefined(); // never a current blob: that is prune's decision
  expect(Object.keys(rules).sort()).toEqual(['expire-nights', 'expire-pruned-blob-versions']);
});

test('no rule reaches the verification records (they are the append-only history)', () => {
  const policy = only(synthPlan(), 'azurerm_storage_management_policy');
  for (const r of policy.rule as Record<string, any>[]) for (const p of r.filters.prefix_match) expect(p).not.toContain(naming.VERIFICATIONS_PREFIX);
});
