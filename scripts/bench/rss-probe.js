// Preloaded into a measured Node process (`node -r scripts/bench/rss-probe.js ...`):
// on exit, writes the process's own peak RSS (KiB, from getrusage) to $BENCH_RSS_FILE.
// This is the process's own accounting, so the benchmarks need no GNU time.
const fs = require('fs');
process.on('exit', () => {
  if (process.env.BENCH_RSS_FILE) fs.writeFileSync(process.env.BENCH_RSS_FILE, String(process.resourceUsage().maxRSS));
});
