/**
 * Issue 16 §4: the plan's headline monthly estimate shows at synth, as an info annotation on each
 * counterparty construct (and on PrimarySite, test/aws), with the same figure `npm run plan-report` gives.
 */
import { Testing } from 'cdktf';
import type { IConstruct } from 'constructs';
import { headlineMonthlyEstimate } from '../../lib/report';
import { referencePlan } from '../../stacks/reference-plan';
import { GcpCounterpartyStack } from '../../stacks/gcp-counterparty-stack';
import { AzureCounterpartyStack } from '../../stacks/azure-counterparty-stack';

function infoMessages(root: IConstruct): string[] {
  return root.node.findAll().flatMap((c) => c.node.metadata.filter((m) => m.type === '@cdktf/info').map((m) => String(m.data)));
}

const estimate = headlineMonthlyEstimate(referencePlan);

test.each([
  ['gcp', (app: ReturnType<typeof Testing.app>) => new GcpCounterpartyStack(app, 'counterparty-gcp', { plan: referencePlan })],
  ['azure', (app: ReturnType<typeof Testing.app>) => new AzureCounterpartyStack(app, 'counterparty-azure', { plan: referencePlan })],
] as const)('the %s counterparty prints its share of the monthly estimate at synth', (provider, make) => {
  const stack = make(Testing.app());
  const messages = infoMessages(stack).filter((m) => m.startsWith('Counterparty estimate'));
  expect(messages).toEqual([estimate.perProviderText[provider]]);
  const usd = (estimate.perProvider[provider] ?? 0).toLocaleString('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 });
  expect(messages[0]).toContain(`$${usd}/month`);
  expect(estimate.perProvider[provider]).toBeGreaterThan(0);
});

test('PrimarySite prints the AWS share of the monthly estimate at cdk synth', () => {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { App, Stack } = require('aws-cdk-lib') as typeof import('aws-cdk-lib');
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { Annotations, Match } = require('aws-cdk-lib/assertions') as typeof import('aws-cdk-lib/assertions');
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { PrimarySite } = require('../../lib/aws') as typeof import('../../lib/aws');
  const stack = new Stack(new App(), 'primary', { env: { account: referencePlan.primary.account, region: referencePlan.primary.region } });
  new PrimarySite(stack, 'Counterparty', { plan: referencePlan });
  const infos = Annotations.fromStack(stack).findInfo('*', Match.stringLikeRegexp('^Counterparty estimate'));
  expect(infos.map((i) => i.entry.data)).toEqual([estimate.perProviderText.aws]);
  expect(estimate.perProvider.aws).toBeGreaterThan(0);
});
