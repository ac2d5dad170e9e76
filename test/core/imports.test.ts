import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';

const root = path.resolve(__dirname, '../..');

function sourceFiles(): string[] {
  const out = execFileSync('git', ['ls-files', '--cached', '--others', '--exclude-standard', '*.ts', '*.js', '*.mjs', '*.cjs'], { cwd: root, encoding: 'utf8' });
  // This file quotes a barrel import on purpose, to test the rule.
  return out.split('\n').filter((f) => f && f !== 'test/core/imports.test.ts' && fs.existsSync(path.join(root, f)));
}

const importRe = /(?:import|export)[^'"]*?from\s*['"]([^'"]+)['"]|require\(\s*['"]([^'"]+)['"]\s*\)|import\(\s*['"]([^'"]+)['"]\s*\)/g;

function importsOf(file: string): string[] {
  const text = fs.readFileSync(path.join(root, file), 'utf8');
  return [...text.matchAll(importRe)].map((m) => m[1] ?? m[2] ?? m[3]);
}

describe('import rules', () => {
  const files = sourceFiles();

  test('cdktf providers are only deep-imported (the barrel costs ~7 s and 0.8 GB per process)', () => {
    const offenders = files.flatMap((f) => importsOf(f).filter((m) => /^@cdktf\/provider-[a-z]+$/.test(m)).map((m) => `${f}: ${m}`));
    expect(offenders).toEqual([]);
  });

  test('cdktf is imported only in lib/gcp, lib/azure, their stacks and bins, and tests', () => {
    // bin/counterparty.ts is the cdktf app; bin/counterparty-job.ts is the jobs image's entry point, which has no cdktf.
    const allowed = /^(lib\/(gcp|azure|terraform)\/|stacks\/(gcp|azure|counterparty)[^/]*|bin\/counterparty\.ts$|test\/)/;
    const offenders = files.filter((f) => !allowed.test(f)).flatMap((f) => importsOf(f).filter((m) => m === 'cdktf' || m.startsWith('@cdktf/')).map((m) => `${f}: ${m}`));
    expect(offenders).toEqual([]);
  });

  test('the rule itself catches a barrel import', () => {
    expect([...`import { StorageBucket } from '@cdktf/provider-google';`.matchAll(importRe)].map((m) => m[1])).toEqual(['@cdktf/provider-google']);
  });
});
