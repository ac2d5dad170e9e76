import { Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import { Construct } from 'constructs';

/**
 * How a {@link ProtectedKey} resists being destroyed.
 *
 * A locked vault or Object Lock bucket under a customer-managed key is
 * defeated by scheduling that key's deletion (or disabling it): the data stays
 * "immutable" but can never be decrypted again. The key policy therefore
 * denies `kms:ScheduleKeyDeletion` and `kms:DisableKey`.
 */
export enum KeyDeletionProtection {
  /**
   * Denied to everyone except the break-glass principals
   * ({@link ProtectedKeyProps.breakGlassPrincipalArns}, by default the
   * account's root user). Matches governance-mode immutability.
   */
  BREAK_GLASS = 'BREAK_GLASS',
  /**
   * Denied to every principal, with no exception in the key policy.
   * Matches compliance-mode immutability. The policy can still be rewritten
   * by whoever holds `kms:PutKeyPolicy` (KMS refuses a policy that locks
   * itself out), so audit `PutKeyPolicy` on these keys.
   */
  STRICT = 'STRICT',
}

/** Properties of a {@link ProtectedKey}. */
export interface ProtectedKeyProps {
  /**
   * The key's alias, `alias/...`.
   * @default - no alias
   */
  readonly alias?: string;
  /**
   * A description of what the key encrypts.
   * @default - no description
   */
  readonly description?: string;
  /**
   * How the key resists deletion and disabling.
   * @default KeyDeletionProtection.BREAK_GLASS
   */
  readonly deletionProtection?: KeyDeletionProtection;
  /**
   * IAM principal ARNs (roles, or the account root) still allowed to schedule
   * deletion or disable the key in `BREAK_GLASS` mode. Ignored in `STRICT` mode.
   * @default - the account's root user only (`arn:<partition>:iam::<account>:root`)
   */
  readonly breakGlassPrincipalArns?: string[];
  /**
   * Days KMS waits before deleting the key once deletion is scheduled (7-30).
   * @default Duration.days(30)
   */
  readonly pendingWindow?: Duration;
}

/**
 * A customer-managed KMS key for data that must outlive an attacker with
 * administrator rights: rotation on, `RemovalPolicy.RETAIN`, and a key policy
 * that denies `kms:ScheduleKeyDeletion` and `kms:DisableKey` to all but a
 * documented break-glass path (or to everyone, in `STRICT` mode), and that
 * denies `kms:CreateGrant` unless the grant is for an AWS resource
 * (`kms:GrantIsForAWSResource`).
 */
export class ProtectedKey extends Construct {
  /** The KMS key. */
  public readonly key: kms.Key;
  /** The deletion protection applied. */
  public readonly deletionProtection: KeyDeletionProtection;

  constructor(scope: Construct, id: string, props: ProtectedKeyProps = {}) {
    super(scope, id);
    const days = props.pendingWindow?.toDays() ?? 30;
    if (!Number.isInteger(days) || days < 7 || days > 30) {
      throw new Error(`${this.node.path}: pendingWindow is ${days} days; KMS accepts 7 to 30 whole days. Fix: pass Duration.days(7..30), or leave it out for 30.`);
    }
    if (props.alias !== undefined && !/^alias\/[a-zA-Z0-9/_-]+$/.test(props.alias)) {
      throw new Error(`${this.node.path}: alias is ${JSON.stringify(props.alias)}; a KMS alias must be "alias/" followed by letters, digits, "/", "_" and "-". Fix: use a name such as "alias/acme-cc/exports".`);
    }
    if (props.alias?.startsWith('alias/aws/')) {
      throw new Error(`${this.node.path}: alias is ${JSON.stringify(props.alias)}; the "alias/aws/" prefix is reserved for AWS managed keys. Fix: choose another prefix.`);
    }
    this.deletionProtection = props.deletionProtection ?? KeyDeletionProtection.BREAK_GLASS;
    this.key = new kms.Key(this, 'Key', {
      description: props.description,
      enableKeyRotation: true,
      pendingWindow: Duration.days(days),
      removalPolicy: RemovalPolicy.RETAIN,
    });
    if (props.alias) {
      // The alias is not stateful (it can be recreated), but keep it stable with the key.
      this.key.addAlias(props.alias);
    }
    const stack = Stack.of(this);
    const breakGlass = props.breakGlassPrincipalArns ?? [stack.formatArn({ service: 'iam', region: '', resource: 'root' })];
    this.key.addToResourcePolicy(new iam.PolicyStatement({
      sid: 'DenyKeyDestruction',
      effect: iam.Effect.DENY,
      principals: [new iam.AnyPrincipal()],
      actions: ['kms:ScheduleKeyDeletion', 'kms:DisableKey'],
      resources: ['*'],
      ...(this.deletionProtection === KeyDeletionProtection.BREAK_GLASS
        ? { conditions: { ArnNotEquals: { 'aws:PrincipalArn': breakGlass } } }
        : {}),
    }));
    // Grants only for AWS services acting for a principal (S3, AWS Backup, ECR, Logs):
    // nobody hands out a standing grant on the key to another principal.
    this.key.addToResourcePolicy(new iam.PolicyStatement({
      sid: 'DenyGrantsNotForAwsResources',
      effect: iam.Effect.DENY,
      principals: [new iam.AnyPrincipal()],
      actions: ['kms:CreateGrant'],
      resources: ['*'],
      conditions: { BoolIfExists: { 'kms:GrantIsForAWSResource': 'false' } },
    }));
  }
}
