import { App, Stack } from 'aws-cdk-lib';
import type { ProtectionPlan } from '../../lib/core';
import { referencePlan } from '../../stacks/reference-plan';

/** An app that does not bundle Lambda code (bundling is not under test here) nor run the built-in CloudFormation validation. */
export function testApp(): App {
  return new App({ context: { 'aws:cdk:bundling-stacks': [] }, builtinCloudFormationValidation: false });
}

export function testStack(app = testApp()): Stack {
  return new Stack(app, 'Test', { env: { account: '111122223333', region: 'eu-central-1' } });
}

/** The reference plan with changes. */
export function plan(changes: Partial<ProtectionPlan> = {}): ProtectionPlan {
  return { ...referencePlan, ...changes };
}
