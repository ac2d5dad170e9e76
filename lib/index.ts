/**
 * `@counterparty-dr/constructs`: the plan and naming contract (core) and the
 * AWS primary (aws-cdk-lib constructs). They need only the required peers
 * `aws-cdk-lib` and `constructs`.
 *
 * The other parts have their own entry points, because they need optional peers:
 * - `@counterparty-dr/constructs/gcp`, `/azure`, `/terraform`: cdktf and the provider packages;
 * - `@counterparty-dr/constructs/runtime`: the AWS, Azure and Google SDKs, `pg` and `tar` (the jobs);
 * - `@counterparty-dr/constructs/testing`: the cross-engine contract check (cdktf for the counterparty halves).
 */
export * from './core';
export * from './aws';
