/**
 * The jobs image installs its own dependency set (scripts/pack/jobs-image), since the package's runtime
 * SDKs are optional peers. Every package the jobs import at run time must be in it, at the version the
 * repository tests with, or the image would fail at run time (or run untested code).
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

const root = path.join(__dirname, '..', '..');
const rootPkg = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8')) as { devDependencies: Record<string, string>; peerDependencies: Record<string, string>; peerDependenciesMeta: Record<string, { optional?: boolean }> };
const image = JSON.parse(fs.readFileSync(path.join(root, 'scripts/pack/jobs-image/package.json'), 'utf8')) as { dependencies: Record<string, string> };
const lock = JSON.parse(fs.readFileSync(path.join(root, 'scripts/pack/jobs-image/package-lock.json'), 'utf8')) as { packages: Record<string, { version?: string; dependencies?: Record<string, string> }> };

/** Packages imported by the code the image runs: lib/runtime, lib/core and the job bins. */
function runtimeImports(): string[] {
  const files = execFileSync('git', ['ls-files', '--cached', '--others', '--exclude-standard', 'lib/runtime', 'lib/core', 'bin/counterparty-job.ts', 'bin/exit-bundle.ts', 'bin/status.ts'], { cwd: root, encoding: 'utf8' })
    .split('\n').filter((f) => f.endsWith('.ts') && !f.includes('fixture') && fs.existsSync(path.join(root, f)));
  const names = new Set<string>();
  for (const f of files) {
    const text = fs.readFileSync(path.join(root, f), 'utf8');
    for (const m of text.matchAll(/(?:from\s+|require\(\s*|import\(\s*)'([^.'][^']*)'/g)) {
      const spec = m[1]!;
      if (spec.startsWith('node:') || ['fs', 'path', 'os', 'crypto', 'child_process', 'stream', 'zlib', 'readline', 'util', 'events', 'url'].includes(spec.split('/')[0]!)) continue;
      names.add(spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : spec.split('/')[0]!);
    }
  }
  return [...names].sort();
}

test('every package the jobs import is in the image dependency set, at the tested version', () => {
  const imports = runtimeImports();
  expect(imports.length).toBeGreaterThan(5);
  for (const name of imports) expect({ name, image: image.dependencies[name] }).toEqual({ name, image: rootPkg.devDependencies[name] });
});

test('the image lock file matches its package.json', () => {
  expect(lock.packages['']?.dependencies).toEqual(image.dependencies);
  for (const [name, version] of Object.entries(image.dependencies)) expect({ name, locked: lock.packages[`node_modules/${name}`]?.version }).toEqual({ name, locked: version });
});

test('the runtime packages are optional peers of the published package (a synth-only user installs none)', () => {
  for (const name of runtimeImports()) {
    expect({ name, peer: Boolean(rootPkg.peerDependencies[name]), optional: rootPkg.peerDependenciesMeta[name]?.optional }).toEqual({ name, peer: true, optional: true });
  }
});
