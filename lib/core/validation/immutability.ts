/**
 * Checks of `immutability`: irreversible steps need their explicit acknowledgement.
 */
import { LIMITS } from '../plan';
import type { IssueCollector } from './collector';

type Fields = Record<string, unknown>;

export function checkImmutability(c: IssueCollector, plan: Fields): void {
  if (!c.object('immutability', plan.immutability, 'give immutability: { mode, lock, ... }, or leave it out for governance mode.', true)) return;
  const im = plan.immutability;
  c.unknownKeys('immutability', im, ['mode', 'acknowledgeComplianceIsIrreversible', 'lock', 'acknowledgeLockIsIrreversible', 'vaultLockChangeableForHours']);
  if (im.mode !== undefined && im.mode !== 'governance' && im.mode !== 'compliance') {
    c.error('immutability.mode', im.mode, 'is not an immutability mode.', 'use "governance" (default, reversible) or "compliance" (irreversible, needs acknowledgeComplianceIsIrreversible: true).');
  }
  const ackCompliance = c.boolean('immutability.acknowledgeComplianceIsIrreversible', im.acknowledgeComplianceIsIrreversible);
  if (im.mode === 'compliance' && ackCompliance !== true) {
    c.error('immutability.mode', 'compliance', 'is irreversible (no one, not even the account root, can shorten retention or delete locked copies) and was not explicitly opted into.',
      'set immutability.acknowledgeComplianceIsIrreversible: true after reading README "Irreversible opt-ins", or use mode "governance".');
  }
  const lock = c.boolean('immutability.lock', im.lock);
  const ackLock = c.boolean('immutability.acknowledgeLockIsIrreversible', im.acknowledgeLockIsIrreversible);
  if (lock === true && ackLock !== true) {
    c.error('immutability.lock', true, 'locks GCS retention and the Azure immutability policy irreversibly, and was not explicitly opted into.',
      'set immutability.acknowledgeLockIsIrreversible: true after reading README "Irreversible opt-ins", or leave lock false.');
  }
  const grace = c.integer('immutability.vaultLockChangeableForHours', im.vaultLockChangeableForHours, LIMITS.minVaultLockChangeableForHours, 24 * 365,
    `give the compliance Vault Lock grace period in whole hours, at least ${LIMITS.minVaultLockChangeableForHours}.`);
  if (grace !== undefined && grace % 24 !== 0) {
    c.error('immutability.vaultLockChangeableForHours', grace, 'is not a whole number of days; AWS Backup Vault Lock takes ChangeableForDays.',
      `use a multiple of 24, e.g. ${Math.max(LIMITS.minVaultLockChangeableForHours, Math.round(grace / 24) * 24)}.`);
  }
}
