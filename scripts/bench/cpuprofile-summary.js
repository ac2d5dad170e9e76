#!/usr/bin/env node
// Summarizes a V8 .cpuprofile (from `node --cpu-prof`): self time by function and by file.
//   node scripts/bench/cpuprofile-summary.js <file.cpuprofile> [top=25]
const fs = require('fs');
const [file, topText] = process.argv.slice(2);
if (!file) { console.error('usage: cpuprofile-summary.js <file.cpuprofile> [top]'); process.exit(2); }
const top = Number(topText ?? 25);
const p = JSON.parse(fs.readFileSync(file, 'utf8'));
const byId = new Map(p.nodes.map((n) => [n.id, n]));
const self = new Map();
const dt = p.timeDeltas;
for (let i = 0; i < p.samples.length; i++) self.set(p.samples[i], (self.get(p.samples[i]) ?? 0) + (dt[i] ?? 0));
const total = [...self.values()].reduce((a, b) => a + b, 0);
const fnAgg = new Map(), fileAgg = new Map();
for (const [id, us] of self) {
  const cf = byId.get(id).callFrame;
  const short = (cf.url || '(native)').replace(/^file:\/\//, '').replace(/.*node_modules\//, '').replace(process.cwd() + '/', '');
  const fkey = `${cf.functionName || '(anonymous)'}  ${short}:${cf.lineNumber + 1}`;
  fnAgg.set(fkey, (fnAgg.get(fkey) ?? 0) + us);
  fileAgg.set(short, (fileAgg.get(short) ?? 0) + us);
}
const show = (title, m) => {
  console.log(`\n${title}`);
  for (const [k, us] of [...m].sort((a, b) => b[1] - a[1]).slice(0, top)) console.log(`${(us / 1000).toFixed(0).padStart(7)} ms ${(100 * us / total).toFixed(1).padStart(5)}%  ${k}`);
};
console.log(`total sampled: ${(total / 1000).toFixed(0)} ms`);
show('self time by function', fnAgg);
show('self time by file', fileAgg);
