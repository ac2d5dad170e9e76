/**
 * `npm run test:package`: the package as a user gets it.
 *
 * 1. Clones HEAD of this repository into a temporary folder (a fresh clone: only committed files), and
 *    runs `npm pack` there (`prepack` compiles lib/ and pre-bundles the handlers).
 * 2. Checks the tarball: .js and .d.ts under dist/, every `exports` target present, the pre-bundled
 *    handlers, no test/ and no TypeScript sources, peerDependencies aws-cdk-lib and constructs, cdktf and
 *    the providers optional.
 * 3. For each aws-cdk-lib version (the declared minimum and 2.276.0): a consumer project in a temporary
 *    folder installs the tarball next to that aws-cdk-lib, with no ts-node or jest overrides and no cdktf.
 *    Its stack is the first example of docs/use-in-your-app.md: PrimarySite over the project's own bucket,
 *    TableV2, Aurora cluster, VPC and secret (all tokens). It type-checks under a strict tsconfig
 *    (noUncheckedIndexedAccess, skipLibCheck false), synthesizes, and runs cdk-nag's AwsSolutionsChecks:
 *    zero findings may come from inside PrimarySite. The Lambda asset hashes must not depend on the
 *    aws-cdk-lib version (they come from the pre-bundled handlers).
 *
 * npm uses the machine's registry configuration as it is; `--prefer-offline` reuses npm's cache between runs.
 * Environment: CP_CDK_VERSIONS=2.x.y,2.276.0 overrides the versions; CP_PACK_NPM_CI=1 runs `npm ci` in the
 * clone instead of linking this checkout's node_modules (same lock file); CP_KEEP=1 keeps the folder;
 * CP_PROBE=1 installs with --legacy-peer-deps, to try versions below the declared minimum.
 * Exit status: 0 when every check passed, 1 otherwise (one line per failed check).
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

const root = path.join(__dirname, '..', '..');
const rootPkg = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8')) as PackageJson;
const LATEST_TESTED = '2.276.0';

interface PackageJson {
  name: string;
  version: string;
  exports: Record<string, string | { types: string; default: string }>;
  peerDependencies: Record<string, string>;
  peerDependenciesMeta?: Record<string, { optional?: boolean }>;
  devDependencies: Record<string, string>;
}

const failures: string[] = [];
function check(ok: boolean, what: string): void {
  console.log(`${ok ? 'ok  ' : 'FAIL'} ${what}`);
  if (!ok) failures.push(what);
}

function run(cmd: string, args: string[], cwd: string): string {
  return execFileSync(cmd, args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 256 * 1024 * 1024 });
}

/** The minimum aws-cdk-lib the package declares (`^2.x.y` or `>=2.x.y`). */
function declaredMinimum(): string {
  const m = /(\d+\.\d+\.\d+)/.exec(rootPkg.peerDependencies['aws-cdk-lib'] ?? '');
  if (!m?.[1]) throw new Error(`package.json peerDependencies["aws-cdk-lib"] is ${rootPkg.peerDependencies['aws-cdk-lib']}; expected a range with a minimum version`);
  return m[1];
}

function packFreshClone(work: string): string {
  const clone = path.join(work, 'clone');
  run('git', ['clone', '--quiet', '--no-hardlinks', root, clone], work);
  if (process.env.CP_PACK_NPM_CI === '1') run('npm', ['ci', '--prefer-offline', '--no-audit', '--no-fund'], clone);
  else fs.symlinkSync(path.join(root, 'node_modules'), path.join(clone, 'node_modules'), 'dir');
  const out = run('npm', ['pack', '--json', '--pack-destination', work], clone);
  const [info] = JSON.parse(out.slice(out.indexOf('['))) as { filename: string }[];
  if (!info) throw new Error('npm pack printed no tarball');
  return path.join(work, info.filename);
}

/**
 * Every public entry's declarations (gcp, azure, terraform, runtime and testing too) type-check under a
 * strict consumer tsconfig with skipLibCheck false. Run in the clone, whose node_modules has the optional
 * peers (cdktf, the providers, the SDKs) that those entries' types refer to.
 */
function checkAllDeclarations(clone: string): void {
  const dir = path.join(clone, 'dts-check');
  fs.mkdirSync(dir);
  const entries = Object.keys(rootPkg.exports).filter((k) => k !== './package.json');
  const imports = entries.map((k, i) => `import * as entry${i} from '../dist/lib${k === '.' ? '' : k.slice(1)}/index';\nexport { entry${i} };`).join('\n');
  fs.writeFileSync(path.join(dir, 'index.ts'), `${imports}\n`);
  fs.writeFileSync(path.join(dir, 'tsconfig.json'), JSON.stringify({ ...TSCONFIG, compilerOptions: { ...TSCONFIG.compilerOptions, noEmit: true, rootDir: '..' }, include: ['index.ts'] }));
  try {
    run(process.execPath, [path.join(clone, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', dir], dir);
    check(true, `declarations of every entry (${entries.join(', ')}) type-check (strict, noUncheckedIndexedAccess, skipLibCheck false)`);
  } catch (e) {
    check(false, `declarations of every entry type-check:\n${(e as { stdout?: string }).stdout ?? e}`);
  }
}

function checkTarball(tarball: string): void {
  const files = run('tar', ['-tzf', tarball], path.dirname(tarball)).split('\n').filter(Boolean).map((f) => f.replace(/^package\//, ''));
  const pkg = JSON.parse(run('tar', ['-xzOf', tarball, 'package/package.json'], path.dirname(tarball))) as PackageJson;
  check(files.some((f) => /^dist\/lib\/.+\.js$/.test(f)) && files.some((f) => /^dist\/lib\/.+\.d\.ts$/.test(f)), 'tarball: compiled .js and .d.ts under dist/lib');
  const targets = Object.values(pkg.exports).flatMap((e) => (typeof e === 'string' ? [e] : [e.types, e.default])).map((t) => t.replace(/^\.\//, ''));
  const missing = targets.filter((t) => !files.includes(t));
  check(Object.keys(pkg.exports).length >= 8 && missing.length === 0, `tarball: exports map (${Object.keys(pkg.exports).join(', ')}) with every target present${missing.length ? `; missing: ${missing.join(', ')}` : ''}`);
  check(files.includes('dist/handlers/build-manifest/index.js') && files.includes('dist/handlers/connect-export/index.js'), 'tarball: pre-bundled Lambda handlers');
  check(!files.some((f) => f.startsWith('test/') || f.includes('.test.')), 'tarball: no test/ folder, no test files');
  check(!files.some((f) => f.endsWith('.ts') && !f.endsWith('.d.ts')), 'tarball: no TypeScript sources to compile');
  check(pkg.name === rootPkg.name && Boolean(pkg.peerDependencies['aws-cdk-lib']) && Boolean(pkg.peerDependencies.constructs), 'tarball: peerDependencies aws-cdk-lib and constructs');
  const optional = ['cdktf', '@cdktf/provider-google', '@cdktf/provider-azurerm'].every((p) => pkg.peerDependenciesMeta?.[p]?.optional === true);
  check(optional, 'tarball: cdktf and the providers are optional peers');
}

/** The first ```ts block after the consumer-stack marker of the guide. */
function guideStack(): string {
  const text = fs.readFileSync(path.join(root, 'docs', 'use-in-your-app.md'), 'utf8');
  const at = text.indexOf('<!-- consumer-stack');
  const m = /```ts\n([\s\S]*?)```/.exec(text.slice(at));
  if (at < 0 || !m?.[1]) throw new Error('docs/use-in-your-app.md: no ```ts block after <!-- consumer-stack');
  return m[1];
}

const MAIN = `import * as fs from 'node:fs';
import * as path from 'node:path';
import { App } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { naming } from '@counterparty-dr/constructs/core';
import { PrimarySite } from '@counterparty-dr/constructs/aws';
import { ContactCentreStack, plan } from './stack';

const app = new App({ outdir: 'cdk.out' });
// The subpath entries resolve to the same modules as the root entry.
if (!(naming.exportBucketName(plan).length > 0) || typeof PrimarySite !== 'function') throw new Error('subpath entries');
const stack = new ContactCentreStack(app, 'ContactCentre');
const findings = new AwsSolutionsChecks().validateScope(stack).violations.flatMap((v) =>
  v.violatingResources.map((r) => \`\${v.ruleName} at \${(r as { constructPath?: string }).constructPath ?? r.resourceLogicalId}\`));
const assembly = app.synth();
const template = JSON.parse(fs.readFileSync(path.join(assembly.directory, 'ContactCentre.template.json'), 'utf8')) as { Resources: Record<string, { Type: string; Properties?: { Code?: { S3Key?: unknown } } }> };
const lambdaCode = Object.values(template.Resources).filter((r) => r.Type === 'AWS::Lambda::Function').map((r) => JSON.stringify(r.Properties?.Code?.S3Key)).sort();
console.log(JSON.stringify({ inside: findings.filter((f) => f.includes('ContactCentre/Counterparty/')), outside: findings.filter((f) => !f.includes('ContactCentre/Counterparty/')).length, lambdaCode, resources: Object.keys(template.Resources).length }));
`;

const TSCONFIG = {
  compilerOptions: {
    target: 'ES2022', module: 'node16', moduleResolution: 'node16', lib: ['ES2022'], types: ['node'],
    strict: true, noUncheckedIndexedAccess: true, exactOptionalPropertyTypes: false, noImplicitReturns: true,
    skipLibCheck: false, esModuleInterop: true, outDir: 'out', rootDir: '.',
  },
  include: ['*.ts'],
};

interface ConsumerResult { inside: string[]; outside: number; lambdaCode: string[]; resources: number }

function consumer(work: string, tarball: string, cdkVersion: string): ConsumerResult | undefined {
  const dir = path.join(work, `consumer-${cdkVersion}`);
  fs.mkdirSync(dir);
  const dev = rootPkg.devDependencies;
  fs.writeFileSync(path.join(dir, 'package.json'), JSON.stringify({
    name: 'consumer', private: true, version: '1.0.0',
    dependencies: { [rootPkg.name]: `file:${tarball}`, 'aws-cdk-lib': cdkVersion, constructs: '^10.5.0', 'cdk-nag': dev['cdk-nag'] },
    devDependencies: { typescript: dev.typescript, '@types/node': dev['@types/node'] },
  }, null, 2));
  fs.writeFileSync(path.join(dir, 'tsconfig.json'), JSON.stringify(TSCONFIG, null, 2));
  fs.writeFileSync(path.join(dir, 'stack.ts'), guideStack());
  fs.writeFileSync(path.join(dir, 'main.ts'), MAIN);
  const label = `aws-cdk-lib ${cdkVersion}:`;
  try {
    // CP_PROBE=1 (finding the oldest aws-cdk-lib that works): ignore the declared peer range for this install.
    run('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', ...(process.env.CP_PROBE === '1' ? ['--legacy-peer-deps'] : [])], dir);
  } catch (e) {
    check(false, `${label} npm install (${String((e as { stderr?: string }).stderr ?? e).split('\n').find((l) => /ERR|error/.test(l)) ?? ''})`);
    return undefined;
  }
  const nm = path.join(dir, 'node_modules');
  const installed = (p: string) => fs.existsSync(path.join(nm, p, 'package.json'));
  check(JSON.parse(fs.readFileSync(path.join(nm, 'aws-cdk-lib', 'package.json'), 'utf8')).version === cdkVersion, `${label} the project's aws-cdk-lib is used`);
  check(!fs.existsSync(path.join(nm, rootPkg.name, 'node_modules', 'aws-cdk-lib')), `${label} no nested second aws-cdk-lib`);
  check(!installed('cdktf') && !installed('@cdktf/provider-azurerm') && !installed('@cdktf/provider-google'), `${label} no cdktf or provider installed`);
  check(!installed('esbuild') && !installed('@aws-sdk/client-s3') && !installed('pg'), `${label} no esbuild, runtime SDKs or pg installed`);
  try {
    run(process.execPath, [path.join(nm, 'typescript', 'bin', 'tsc'), '-p', '.'], dir);
    check(true, `${label} type-checks (strict, noUncheckedIndexedAccess, skipLibCheck false) and compiles`);
  } catch (e) {
    check(false, `${label} type-check:\n${(e as { stdout?: string }).stdout ?? e}`);
    return undefined;
  }
  let out: string;
  try {
    // No overrides of any kind: plain node on the compiled JavaScript; no Docker, no esbuild.
    out = run(process.execPath, [path.join('out', 'main.js')], dir);
  } catch (e) {
    check(false, `${label} synth:\n${(e as { stderr?: string }).stderr ?? e}`);
    return undefined;
  }
  const result = JSON.parse(out.trim().split('\n').pop() ?? '{}') as ConsumerResult;
  check(result.resources > 50, `${label} synthesizes (${result.resources} resources)`);
  check(result.inside.length === 0, `${label} AwsSolutionsChecks: zero findings inside PrimarySite${result.inside.length ? `:\n  ${result.inside.join('\n  ')}` : ''} (${result.outside} from the project's own resources)`);
  check(result.lambdaCode.length >= 1, `${label} Lambda functions from assets, synthesized without esbuild or Docker (${result.lambdaCode.length}: ${result.lambdaCode.join(', ')})`);
  return result;
}

function main(): void {
  const versions = (process.env.CP_CDK_VERSIONS ?? `${declaredMinimum()},${LATEST_TESTED}`).split(',').map((v) => v.trim()).filter(Boolean);
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'cp-package-test-'));
  console.log(`package test in ${work}; aws-cdk-lib ${versions.join(' and ')}`);
  try {
    const tarball = packFreshClone(work);
    check(fs.existsSync(tarball), `npm pack of a fresh clone: ${path.basename(tarball)}`);
    checkTarball(tarball);
    checkAllDeclarations(path.join(work, 'clone'));
    const results = [...new Set(versions)].map((v) => consumer(work, tarball, v)).filter((r): r is ConsumerResult => r !== undefined);
    if (results.length > 1) {
      const hashes = results.map((r) => r.lambdaCode.join(','));
      check(hashes.every((h) => h === hashes[0]), 'Lambda asset hashes are the same for every aws-cdk-lib version (stable for snapshots)');
    }
  } catch (e) {
    check(false, `package test aborted: ${(e as Error).message}`);
  } finally {
    if (process.env.CP_KEEP !== '1') fs.rmSync(work, { recursive: true, force: true });
  }
  console.log(failures.length === 0 ? 'package test: all checks passed' : `package test: ${failures.length} check(s) failed`);
  process.exitCode = failures.length === 0 ? 0 : 1;
}

main();
