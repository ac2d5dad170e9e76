/**
 * The reference contact centre's AWS primary: one stack, `PrimarySite` from
 * the plan, deployed to the plan's account and region. PrimarySite
 * acknowledges the cdk-nag findings on its own resources itself
 * (lib/aws/primary-site-acknowledgements.ts); this stack adds the one on the
 * stack-level scheduler role (listed in docs/nag-acknowledgements.md).
 */
import { Stack, Validations, type StackProps } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import type { ProtectionPlan } from '../lib/core';
import { PrimarySite, type NagAcknowledgement, type PrimarySiteProps } from '../lib/aws';

export type { NagAcknowledgement } from '../lib/aws';

/** Properties of a {@link ContactCentrePrimaryStack}. */
export interface ContactCentrePrimaryStackProps extends StackProps, Omit<PrimarySiteProps, 'plan'> {
  /** The protection plan; the stack's env defaults to its primary account and region. */
  readonly plan: ProtectionPlan;
}

export class ContactCentrePrimaryStack extends Stack {
  public readonly site: PrimarySite;
  /** Every cdk-nag acknowledgement made in this stack: the site's own (paths under the stack) and the scheduler role's. */
  public readonly nagAcknowledgements: readonly NagAcknowledgement[];

  constructor(scope: Construct, id: string, props: ContactCentrePrimaryStackProps) {
    super(scope, id, {
      ...props,
      env: props.env ?? { account: props.plan.primary.account, region: props.plan.primary.region },
      description: props.description ?? `Counterparty primary (AWS) of ${props.plan.system}: immutable exports, locked snapshots, keyless counterparty readers`,
    });
    this.site = new PrimarySite(this, 'Primary', props);
    // The site acknowledged its own findings; the scheduler's role is created at stack level by aws-scheduler-targets.
    const stackAcks: NagAcknowledgement[] = [];
    const schedulerRole = this.node.children.find((c) => c.node.id.startsWith('SchedulerRoleForTarget-'));
    const policy = schedulerRole?.node.tryFindChild('DefaultPolicy')?.node.tryFindChild('Resource');
    if (schedulerRole && policy) {
      const ack = { path: `${schedulerRole.node.id}/DefaultPolicy/Resource`, id: 'NIST.800.53.R5-IAMNoInlinePolicy',
        reason: 'states:StartExecution on the one state machine, created by aws-scheduler-targets; CDK grants write least-privilege statements into a policy owned by the one role that uses them; a customer-managed policy would add a shareable object without reducing any permission.' };
      Validations.of(policy).acknowledge({ id: ack.id, reason: ack.reason });
      stackAcks.push(ack);
    }
    this.nagAcknowledgements = [...this.site.nagAcknowledgements.map((a) => ({ ...a, path: `Primary/${a.path}` })), ...stackAcks];
  }
}
