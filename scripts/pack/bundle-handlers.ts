/**
 * Pre-bundles the Lambda handlers into dist/handlers/<name>/index.js at pack
 * time (`prepack`), with the options NodejsFunction uses from a checkout
 * (lib/aws/bundled-handler.ts). The package's users then need neither esbuild
 * nor Docker, and the asset hash depends only on the bundle's bytes.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { buildSync } from 'esbuild';
import { HANDLER_NAMES } from '../../lib/aws/bundled-handler';

const root = path.join(__dirname, '..', '..');

export function bundleHandlers(outRoot = path.join(root, 'dist', 'handlers')): string[] {
  fs.rmSync(outRoot, { recursive: true, force: true });
  return HANDLER_NAMES.map((name) => {
    const outfile = path.join(outRoot, name, 'index.js');
    buildSync({
      entryPoints: [path.join(root, 'lib', 'runtime', 'handlers', `${name}.ts`)],
      outfile,
      bundle: true,
      platform: 'node',
      target: 'node24',
      format: 'cjs',
      minify: true,
      sourcemap: true,
      sourcesContent: false, // file and line are enough for --enable-source-maps; keeps the package small
      // Source paths in the map are relative to the bundle, so the bytes (and the asset hash) do not depend on the checkout's folder.
      sourceRoot: '',
      logLevel: 'warning',
      legalComments: 'none',
    });
    return outfile;
  });
}

if (require.main === module) {
  for (const f of bundleHandlers()) console.log(`bundled ${path.relative(root, f)} (${fs.statSync(f).size} bytes)`);
}
