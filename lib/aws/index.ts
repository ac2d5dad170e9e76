/**
 * The AWS primary of Counterparty (aws-cdk-lib). Each construct can be used
 * alone in your own stack; `PrimarySite` composes them all from a plan.
 */
export * from './protected-key';
export * from './immutable-export-bucket';
export * from './locked-backup-vault';
export * from './native-snapshot-plan';
export * from './nightly-export-pipeline';
export * from './counterparty-reader-role';
export * from './freshness-alarms';
export * from './primary-site';
export { nightFormatTemplate } from './night-template';
export * from './tamper-alarm';
export * from './backup-job-alarm';
export * from './initial-seed';
export * from './management-events-trail';
export * from './export-prune-task';
export * from './primary-site-sources';
export * from './primary-site-acknowledgements';
