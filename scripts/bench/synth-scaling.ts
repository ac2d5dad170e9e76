/**
 * The app process of the scaling benchmark: synthesizes one generated plan of
 * N datasets, either with Counterparty's `PrimarySite` or with the
 * hand-written baseline (bench/baseline-primary.ts, plain aws-cdk-lib), into
 * $CDK_OUTDIR. Context comes from $CDK_CONTEXT_JSON (the harness passes
 * cdk.json's context plus `aws:cdk:bundling-stacks: []`).
 *
 *   node -r ts-node/register/transpile-only scripts/bench/synth-scaling.ts counterparty|baseline <N>
 *
 * Neither variant adds a validation plugin (no cdk-nag) and both turn the
 * built-in CloudFormation validation off, like bin/primary.ts.
 */
import { App, Stack } from 'aws-cdk-lib';
import { generatedPlan } from './plan-gen';

const [impl, countText] = process.argv.slice(2);
const count = Number(countText);
if ((impl !== 'counterparty' && impl !== 'baseline') || !Number.isInteger(count) || count < 1) {
  console.error('usage: synth-scaling.ts counterparty|baseline <datasets>');
  process.exit(2);
}

const plan = generatedPlan(count);
const app = new App({ builtinCloudFormationValidation: false });
const stack = new Stack(app, `${plan.system}-primary`, { env: { account: plan.primary.account, region: plan.primary.region } });
if (impl === 'counterparty') {
  // Loaded only in this branch so the baseline process never loads lib/.
  const { PrimarySite } = require('../../lib/aws') as typeof import('../../lib/aws');
  // Measurement only: past ~250 datasets the template is not deployable (BENCHMARKS.md), which is
  // why PrimarySite refuses more than maxDatasets (150) by default.
  new PrimarySite(stack, 'Primary', { plan, maxDatasets: Number.POSITIVE_INFINITY });
} else {
  const { BaselinePrimary } = require('../../bench/baseline-primary') as typeof import('../../bench/baseline-primary');
  // The bench plans always give the postgres endpoint, secret and network, which the baseline requires.
  new BaselinePrimary(stack, 'Primary', { plan: plan as import('../../bench/baseline-primary').BaselinePlan });
}
app.synth();
