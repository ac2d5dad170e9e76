/**
 * Test helpers for your own CI: `assertCounterpartyContract({ plan })`
 * synthesizes the AWS half and the counterparty halves from one plan and
 * fails when a value that crosses between them disagrees.
 */
export * from './contract';
