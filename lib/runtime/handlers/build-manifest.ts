/**
 * Lambda handler: writes a night's manifest (every object with key, size, SHA-256, chained to the previous night).
 * Event `{ bucket, night, datasets: [{ name, kind }] }`. See docs/ARCHITECTURE.md.
 * Implementation lands with the runtime issue (lib/runtime/manifest.ts).
 */
export interface BuildManifestEvent {
  readonly bucket: string;
  readonly night: string;
  readonly datasets: readonly { readonly name: string; readonly kind: string }[];
}
export interface BuildManifestResult {
  readonly manifestKey: string;
  readonly sha256: string;
  readonly objects: number;
  readonly bytes: number;
  readonly previousSha256: string | null;
}
export async function handler(_event: BuildManifestEvent): Promise<BuildManifestResult> {
  throw new Error('build-manifest: not implemented yet');
}
