export * from './errors';
export * from './cron';
export * from './plan';
export * from './residency';
export * from './schedule';
export * from './validate';
export * as naming from './naming';
