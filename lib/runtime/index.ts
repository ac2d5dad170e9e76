/**
 * The runtime of the jobs image and the Lambda handlers, as namespaces (the
 * jobs image runs them; a user needs them only to read or verify exports from
 * their own code). Needs the optional peers: the AWS, Azure and Google SDKs,
 * `pg` and `tar`. Nothing here is needed to synthesize a stack.
 */
export * as errors from './errors';
export * as log from './log';
export * as manifest from './manifest';
export * as records from './records';
export * as verifier from './verifier';
export * as restorer from './restorer';
export * as stores from './stores';
export * as jobs from './jobs';
