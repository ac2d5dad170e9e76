import { naming } from '../../core';

/** `blobs/sha256/<2 hex>/<sha256>`: where the bytes with this SHA-256 are. */
export function blobKey(sha256: string): string {
  return naming.blobKey(sha256);
}

/** The SHA-256 a blob key names, or undefined. */
export function blobSha256(key: string): string | undefined {
  return naming.blobSha256(key);
}
