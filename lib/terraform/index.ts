/** Shared cdktf helpers of the GCP and Azure counterparties (needs the optional peer `cdktf`). */
export * from './plan-warnings';
export * from './random-password';
