/**
 * The TypeScript blocks of README.md, docs/use-in-your-app.md and docs/aws.md type-check against the
 * library, imported by the package name (`@counterparty-dr/constructs`, `/aws`, `/gcp`, ...). The
 * guide's consumer stack is also what `npm run test:package` synthesizes from the packed tarball.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as ts from 'typescript';

const root = path.join(__dirname, '..', '..');
const dir = path.join(root, '.docs-snippets');
const DOCS = ['README.md', 'docs/use-in-your-app.md', 'docs/aws.md'];

function blocks(doc: string): string[] {
  const text = fs.readFileSync(path.join(root, doc), 'utf8');
  return [...text.matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1] ?? '');
}

/** Virtual files: every block, plus `stack.ts` (the guide's consumer stack) and `plan.ts` (the reference plan) they import. */
function snippetFiles(): Map<string, string> {
  const files = new Map<string, string>();
  for (const doc of DOCS) {
    blocks(doc).forEach((code, i) => files.set(path.join(dir, `${doc.replace(/[/.]/g, '_')}_${i}.ts`), code));
  }
  const guide = blocks('docs/use-in-your-app.md');
  files.set(path.join(dir, 'stack.ts'), guide[0] ?? '');
  files.set(path.join(dir, 'plan.ts'), "export { referencePlan as plan, referencePlan as myPlan } from '../stacks/reference-plan';\n");
  return files;
}

test('every TypeScript block of the docs type-checks against the package', () => {
  const files = snippetFiles();
  expect(files.size).toBeGreaterThanOrEqual(10);
  const options: ts.CompilerOptions = {
    target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.Node16, moduleResolution: ts.ModuleResolutionKind.Node16,
    strict: true, noEmit: true, skipLibCheck: true, esModuleInterop: true, types: ['node', 'jest'],
    paths: { '@counterparty-dr/constructs': [path.join(root, 'lib/index.ts')], '@counterparty-dr/constructs/*': [path.join(root, 'lib/*/index.ts')] },
  };
  const host = ts.createCompilerHost(options);
  const { getSourceFile, fileExists, readFile } = host;
  host.fileExists = (f) => files.has(f) || fileExists.call(host, f);
  host.readFile = (f) => files.get(f) ?? readFile.call(host, f);
  const { directoryExists } = host;
  host.directoryExists = (d) => d === dir || (directoryExists ? directoryExists.call(host, d) : fs.existsSync(d));
  host.getSourceFile = (f, lang, ...rest) => (files.has(f) ? ts.createSourceFile(f, files.get(f)!, lang) : getSourceFile.call(host, f, lang, ...rest));
  const program = ts.createProgram([...files.keys()], options, host);
  const problems = ts.getPreEmitDiagnostics(program)
    .filter((d) => d.file && files.has(d.file.fileName))
    .map((d) => `${path.basename(d.file!.fileName)}:${d.file!.getLineAndCharacterOfPosition(d.start ?? 0).line + 1}: ${ts.flattenDiagnosticMessageText(d.messageText, '\n')}`);
  expect(problems).toEqual([]);
}, 300_000);

test('the docs import the package by its name, never by a path into the repository', () => {
  for (const doc of [...DOCS, 'docs/gcp.md', 'docs/azure.md', 'docs/connect.md']) {
    if (!fs.existsSync(path.join(root, doc))) continue;
    expect({ doc, stale: fs.readFileSync(path.join(root, doc), 'utf8').match(/from '(counterparty|\.\.?\/lib)\/[^']*'/g) ?? [] }).toEqual({ doc, stale: [] });
  }
});
