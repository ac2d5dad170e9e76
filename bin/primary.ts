#!/usr/bin/env node
/**
 * The cdk app: the reference contact centre's AWS primary, from
 * stacks/reference-plan.ts. `cdk synth` needs no AWS credentials: nothing is
 * looked up (the VPC, subnets and security groups come from the plan).
 *
 * cdk-nag runs as a policy-validation plugin: AWS Solutions and NIST 800-53 R5.
 * Any finding that is not acknowledged (with a reason) fails the synth.
 */
import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks, NIST80053R5Checks } from 'cdk-nag';
import { ContactCentrePrimaryStack } from '../stacks/primary-stack';
import { runCli } from './cli-errors';
import { referencePlan } from '../stacks/reference-plan';

/**
 * The built-in CloudFormation validation of aws-cdk-lib is off: it costs about
 * 10 s per synth, and `cfn-lint` runs on every synthesized template in the
 * test suite instead (test/aws/cfn-lint.test.ts).
 */
export function buildPrimaryApp(app: App = new App({ builtinCloudFormationValidation: false })): { app: App; stack: ContactCentrePrimaryStack } {
  const stack = new ContactCentrePrimaryStack(app, `${referencePlan.system}-primary`, { plan: referencePlan });
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app), new NIST80053R5Checks(app));
  return { app, stack };
}

if (require.main === module) {
  // A plan or construct error prints its message alone; COUNTERPARTY_DEBUG=1 adds the stack trace.
  runCli(() => buildPrimaryApp().app.synth());
}
