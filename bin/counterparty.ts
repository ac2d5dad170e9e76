#!/usr/bin/env node
/**
 * The cdktf app: the counterparty stacks of the reference contact-centre plan.
 * `cdktf synth` (or `npm run synth`) writes cdktf.out/stacks/<stack>/cdk.tf.json.
 * Needs no cloud credentials to synthesize.
 */
import { App } from 'cdktf';
import { resolvePlan } from '../lib/core';
import { referencePlan } from '../stacks/reference-plan';
import { AzureCounterpartyStack } from '../stacks/azure-counterparty-stack';
import { GcpCounterpartyStack } from '../stacks/gcp-counterparty-stack';

const app = new App();
const plan = resolvePlan(referencePlan);
if (plan.counterparties.gcp) new GcpCounterpartyStack(app, 'counterparty-gcp', { plan: referencePlan });
if (plan.counterparties.azure) new AzureCounterpartyStack(app, 'counterparty-azure', { plan: referencePlan });
app.synth();
