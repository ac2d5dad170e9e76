/** The `testing` entry point: the cross-engine contract check users run in their own CI. */
import { App, Stack } from 'aws-cdk-lib';
import { PrimarySite } from '../../lib/aws';
import { assertCounterpartyContract, counterpartyContractProblems } from '../../lib/testing';
import { referencePlan } from '../../stacks/reference-plan';

function awsStack(plan = referencePlan): Stack {
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
  const stack = new Stack(app, 'Mine', { env: { account: plan.primary.account, region: plan.primary.region } });
  new PrimarySite(stack, 'Dr', { plan });
  return stack;
}

test('both halves of the reference plan agree', () => {
  expect(counterpartyContractProblems({ plan: referencePlan, awsStack: awsStack() })).toEqual([]);
  expect(() => assertCounterpartyContract({ plan: referencePlan })).not.toThrow();
});

test('an AWS half built from a different plan is reported, value by value', () => {
  const other = { ...referencePlan, schedule: { ...referencePlan.schedule, cron: '0 4 * * *' }, counterparties: {
    ...referencePlan.counterparties,
    gcp: { ...referencePlan.counterparties.gcp!, storageTransferSubjectId: '11111111111111111111' },
  } };
  const problems = counterpartyContractProblems({ plan: other, awsStack: awsStack() });
  expect(problems.join('\n')).toMatch(/GCP reader role trusts subject \d+; the plan's storageTransferSubjectId is 11111111111111111111/);
  expect(() => assertCounterpartyContract({ plan: other, awsStack: awsStack() })).toThrow(/disagree:\n- /);
});

test('a plan whose counterparty identities are not known yet is reported as a missing role', () => {
  const plan = { ...referencePlan, counterparties: { gcp: { ...referencePlan.counterparties.gcp!, storageTransferSubjectId: undefined } } };
  expect(counterpartyContractProblems({ plan }).join('\n')).toMatch(/0 IAM roles are named .*-gcp-reader.*storageTransferSubjectId/);
});
