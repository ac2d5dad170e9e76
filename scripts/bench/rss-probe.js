// Preloaded into every Node process of a measured command (through
// NODE_OPTIONS="--require <this file>", so it follows npx, ts-node, jest
// workers and the processes they start): on exit, appends one line
// "<pid>\t<peak RSS KiB>\t<CPU µs (user + system)>\t<argv>" to $BENCH_RSS_FILE,
// from the process's own getrusage. The harness takes the largest line: the peak RSS of the biggest
// process, which is what GNU time's "Maximum resident set size" reports too.
const fs = require('fs');
const file = process.env.BENCH_RSS_FILE;
if (file) {
  process.on('exit', () => {
    try {
      const argv = process.argv.slice(1).map((a) => a.replace(/\s+/g, ' ')).join(' ').slice(0, 200);
      const u = process.resourceUsage();
      fs.appendFileSync(file, `${process.pid}\t${u.maxRSS}\t${u.userCPUTime + u.systemCPUTime}\t${argv}\n`);
    } catch {
      // never disturb the measured process
    }
  });
}
