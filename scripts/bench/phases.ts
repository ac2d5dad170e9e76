/**
 * Where the reference AWS synth spends its time, phase by phase (a diagnostic,
 * not a benchmark): `node -r ts-node/register/transpile-only scripts/bench/phases.ts`.
 * Honors CDK_CONTEXT_JSON / CDK_OUTDIR like the app.
 */
const t0 = Date.now();
const laps: [string, number][] = [];
let last = t0;
const lap = (s: string) => { const now = Date.now(); laps.push([s, now - last]); last = now; };
/* eslint-disable @typescript-eslint/no-require-imports */
const cdk = require('aws-cdk-lib') as typeof import('aws-cdk-lib'); lap('require aws-cdk-lib (barrel, lazy)');
const nag = require('cdk-nag') as typeof import('cdk-nag'); lap('require cdk-nag');
require('../../lib/core'); lap('require lib/core');
require('../../lib/aws'); lap('require lib/aws (aws-cdk-lib submodules)');
const { ContactCentrePrimaryStack } = require('../../stacks/primary-stack') as typeof import('../../stacks/primary-stack'); lap('require stacks/primary-stack');
const { referencePlan } = require('../../stacks/reference-plan') as typeof import('../../stacks/reference-plan');
const app = new cdk.App({ builtinCloudFormationValidation: false });
new ContactCentrePrimaryStack(app, `${referencePlan.system}-primary`, { plan: referencePlan }); lap('construct (incl. NodejsFunction esbuild bundling)');
if (process.env.BENCH_NO_NAG !== '1') cdk.Validations.of(app).addPlugins(new nag.AwsSolutionsChecks(app), new nag.NIST80053R5Checks(app));
app.synth(); lap(`synth${process.env.BENCH_NO_NAG === '1' ? '' : ' (incl. cdk-nag validation)'}`);
for (const [s, ms] of laps) console.log(`${String(ms).padStart(6)} ms  ${s}`);
console.log(`${String(Date.now() - t0).padStart(6)} ms  total after node+ts-node start; peak RSS ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MiB`);
