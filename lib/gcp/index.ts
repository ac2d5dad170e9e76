/** The GCP counterparty (cdktf + `@cdktf/provider-google`, deep imports only). */
export * from './common';
export * from './google-beta';
export * from './keys';
export * from './vault-bucket';
export * from './transfer';
export * from './verify-job';
export * from './standby';
export * from './registry';
export * from './alerts';
export * from './counterparty';
export * from './scheduled-job';
export * from './mirror-job';
export * from './prune-job';
