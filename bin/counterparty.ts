#!/usr/bin/env node
/**
 * The cdktf app: the counterparty stacks of the reference contact-centre plan.
 * `cdktf synth` (or `npm run synth`) writes cdktf.out/stacks/<stack>/cdk.tf.json.
 * Needs no cloud credentials to synthesize.
 *
 * COUNTERPARTY_STACKS=gcp or =azure synthesizes only that stack (used by the
 * benchmarks to measure each stack alone); the default is every counterparty
 * the plan names.
 */
import { App } from 'cdktf';
import { resolvePlan } from '../lib/core';
import { referencePlan } from '../stacks/reference-plan';
import { runCli } from './cli-errors';

const only = (process.env.COUNTERPARTY_STACKS ?? 'gcp,azure').split(',').map((s) => s.trim());
const unknown = only.filter((s) => s !== 'gcp' && s !== 'azure');
if (unknown.length > 0) {
  console.error(`COUNTERPARTY_STACKS=${JSON.stringify(process.env.COUNTERPARTY_STACKS)} names ${unknown.join(', ')}; use gcp, azure or gcp,azure.`);
  process.exit(2);
}

// A plan or construct error prints its message alone; COUNTERPARTY_DEBUG=1 adds the stack trace.
runCli(() => {
  const app = new App();
  const plan = resolvePlan(referencePlan);
  // Each stack module is loaded only when it is synthesized, so one stack's provider bindings never cost the other's time.
  if (plan.counterparties.gcp && only.includes('gcp')) {
    const { GcpCounterpartyStack, gcpStateBackendFromEnv } = require('../stacks/gcp-counterparty-stack') as typeof import('../stacks/gcp-counterparty-stack');
    // Remote encrypted state (GCS + CMEK) from CP_GCP_STATE_BUCKET / CP_GCP_STATE_KMS_KEY; without them, the local backend and a synth warning.
    new GcpCounterpartyStack(app, 'counterparty-gcp', { plan: referencePlan, stateBackend: gcpStateBackendFromEnv() });
  }
  if (plan.counterparties.azure && only.includes('azure')) {
    const { AzureCounterpartyStack } = require('../stacks/azure-counterparty-stack') as typeof import('../stacks/azure-counterparty-stack');
    new AzureCounterpartyStack(app, 'counterparty-azure', { plan: referencePlan });
  }
  app.synth();
});
