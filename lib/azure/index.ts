/** The Azure counterparty (cdktf + `@cdktf/provider-azurerm`, deep imports only). */
export * from './util';
export * from './foundation';
export * from './federation';
export * from './key-vault';
export * from './storage';
export * from './network';
export * from './registry';
export * from './environment';
export * from './jobs';
export * from './standby';
export * from './alerts';
export * from './counterparty';
