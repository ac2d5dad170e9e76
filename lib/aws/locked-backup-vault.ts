import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as backup from 'aws-cdk-lib/aws-backup';
import * as kms from 'aws-cdk-lib/aws-kms';
import { Construct } from 'constructs';
import { KeyDeletionProtection, ProtectedKey } from './protected-key';

/** Vault Lock mode of a {@link LockedBackupVault}. */
export type VaultLockMode = 'governance' | 'compliance';

/** Properties of a {@link LockedBackupVault}. */
export interface LockedBackupVaultProps {
  /**
   * The vault's name. In a Counterparty deployment use `naming.backupVaultName(plan)`.
   * @default - a CloudFormation-generated name
   */
  readonly backupVaultName?: string;
  /** The shortest retention a recovery point in this vault may have (Vault Lock `MinRetentionDays`), at least 1 day. */
  readonly minRetention: Duration;
  /**
   * The longest retention a recovery point may have (Vault Lock `MaxRetentionDays`);
   * must be longer than `minRetention`.
   * @default - no maximum
   */
  readonly maxRetention?: Duration;
  /**
   * Vault Lock mode. In `governance` mode the lock can be removed by a user
   * with `backup:DeleteBackupVaultLockConfiguration`. In `compliance` mode the
   * lock becomes immutable, for everyone, after `changeableFor`: pass it only
   * from an explicit opt-in.
   * @default 'governance'
   */
  readonly mode?: VaultLockMode;
  /**
   * Required with \`mode: 'compliance'\`: the explicit opt-in the plan asks for
   * (\`immutability.acknowledgeComplianceIsIrreversible\`). Compliance mode cannot
   * be undone or shortened by anyone, so it is never the result of a typo alone.
   * @default false
   */
  readonly acknowledgeComplianceIsIrreversible?: boolean;
  /**
   * Compliance mode only: the grace period during which the lock can still be
   * removed (at least 72 hours). Must not be given in governance mode.
   * @default - Duration.hours(72) in compliance mode; not set in governance mode
   */
  readonly changeableFor?: Duration;
  /**
   * Alias of the created vault key. Ignored when `encryptionKey` is given.
   * @default - no alias
   */
  readonly keyAlias?: string;
  /**
   * The key recovery points are encrypted with.
   * @default - a new {@link ProtectedKey} (STRICT in compliance mode)
   */
  readonly encryptionKey?: kms.IKey;
  /**
   * Principals still allowed to delete or disable the created key in governance mode.
   * @default - the account root user
   */
  readonly breakGlassPrincipalArns?: string[];
}

/**
 * An AWS Backup vault under its own protected KMS key, with Vault Lock:
 * governance by default, compliance (via `changeableFor`) only when asked,
 * and `RemovalPolicy.RETAIN`.
 */
export class LockedBackupVault extends Construct {
  /** The vault. */
  public readonly vault: backup.BackupVault;
  /** The vault's key. */
  public readonly encryptionKey: kms.IKey;
  /** The lock mode in force. */
  public readonly mode: VaultLockMode;

  constructor(scope: Construct, id: string, props: LockedBackupVaultProps) {
    super(scope, id);
    const mode = props.mode ?? 'governance';
    if (mode !== 'governance' && mode !== 'compliance') {
      throw new Error(`${this.node.path}: mode is ${JSON.stringify(mode)}; it must be "governance" or "compliance". Fix: use "governance" unless the plan explicitly opted into compliance.`);
    }
    const min = props.minRetention.toDays({ integral: false });
    const max = props.maxRetention?.toDays({ integral: false });
    if (!Number.isInteger(min) || min < 1 || min > 36500) {
      throw new Error(`${this.node.path}: minRetention is ${min} days; Vault Lock needs 1 to 36500 whole days. Fix: pass Duration.days(n), e.g. the plan's retentionDays.`);
    }
    if (max !== undefined && (!Number.isInteger(max) || max <= min || max > 36500)) {
      throw new Error(`${this.node.path}: maxRetention is ${max} days; it must be whole days, longer than minRetention (${min}) and at most 36500. Fix: raise maxRetention or leave it out.`);
    }
    if (mode === 'governance' && props.changeableFor !== undefined) {
      throw new Error(`${this.node.path}: changeableFor is ${props.changeableFor.toHours()} hours in governance mode; setting it turns the lock into compliance mode, which is irreversible. Fix: remove changeableFor, or set mode: "compliance" deliberately.`);
    }
    const changeableFor = mode === 'compliance' ? props.changeableFor ?? Duration.hours(72) : undefined;
    if (changeableFor && changeableFor.toHours({ integral: false }) < 72) {
      throw new Error(`${this.node.path}: changeableFor is ${changeableFor.toHours({ integral: false })} hours; AWS Backup needs at least 72 hours before a compliance lock sets. Fix: pass Duration.hours(72) or more.`);
    }
    if (mode === 'compliance' && props.acknowledgeComplianceIsIrreversible !== true) {
      throw new Error(`${this.node.path}: mode is "compliance" and acknowledgeComplianceIsIrreversible is not true. A compliance Vault Lock becomes irreversible after changeableFor: no one, not even the account root, can shorten retention or delete locked copies. `
        + 'Fix: set acknowledgeComplianceIsIrreversible: true after reading README "Irreversible opt-ins" (PrimarySite passes the plan\'s immutability.acknowledgeComplianceIsIrreversible), or use mode "governance".');
    }
    this.mode = mode;
    this.encryptionKey = props.encryptionKey ?? new ProtectedKey(this, 'Key', {
      alias: props.keyAlias,
      description: `Encrypts the recovery points of the AWS Backup vault${props.backupVaultName ? ` ${props.backupVaultName}` : ''}`,
      deletionProtection: mode === 'compliance' ? KeyDeletionProtection.STRICT : KeyDeletionProtection.BREAK_GLASS,
      breakGlassPrincipalArns: props.breakGlassPrincipalArns,
    }).key;
    this.vault = new backup.BackupVault(this, 'Vault', {
      backupVaultName: props.backupVaultName,
      encryptionKey: this.encryptionKey,
      removalPolicy: RemovalPolicy.RETAIN,
      lockConfiguration: {
        minRetention: Duration.days(min),
        ...(max !== undefined ? { maxRetention: Duration.days(max) } : {}),
        ...(changeableFor ? { changeableFor } : {}),
      },
    });
  }
}
