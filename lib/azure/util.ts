/**
 * Small helpers shared by the Azure constructs: validation errors in the
 * project's format, built-in role names, and the Terraform resource types
 * that hold state the counterparty must never lose.
 */
import type { Construct } from 'constructs';
import { describeValue } from '../core';

/**
 * Throws the project's construct validation error:
 * `<construct path>: <prop> = <value>: <problem> Fix: <fix>`.
 */
export function invalidProp(scope: Construct, prop: string, value: unknown, problem: string, fix: string): never {
  throw new Error(`${scope.node.path}: ${prop} = ${describeValue(value)}: ${problem} Fix: ${fix}`);
}

/** Azure built-in role names used by the counterparty (least privilege, each at the narrowest scope). */
export const ROLES = {
  keyVaultCryptoServiceEncryptionUser: 'Key Vault Crypto Service Encryption User',
  keyVaultCryptoOfficer: 'Key Vault Crypto Officer',
  keyVaultSecretsOfficer: 'Key Vault Secrets Officer',
  keyVaultSecretsUser: 'Key Vault Secrets User',
  storageBlobDataContributor: 'Storage Blob Data Contributor',
  storageBlobDataReader: 'Storage Blob Data Reader',
  acrPull: 'AcrPull',
  acrPush: 'AcrPush',
} as const;


/** Strips `/32` (Azure Storage IP rules refuse it; a bare address means the same). */
export function storageIpRule(cidr: string): string {
  return cidr.endsWith('/32') ? cidr.slice(0, -3) : cidr;
}
