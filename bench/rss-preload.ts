/**
 * Preloaded into an `indexctl` process by bench/shards.ts (`node --import`): at exit it appends the
 * process's own peak RSS in MB (VmHWM, see bench/rss.ts) and its CPU seconds (all threads) to
 * $INDEXCTL_BENCH_RSS_FILE, so a CLI run is measured as it is shipped, without a wrapper process
 * whose own peak would blur the figure.
 */
import { appendFileSync } from 'node:fs';

import { peakRssMB } from './rss.js';

const out = process.env.INDEXCTL_BENCH_RSS_FILE;
if (out) {
  process.on('exit', () => {
    const cpu = process.cpuUsage();
    appendFileSync(out, `${peakRssMB()} ${(cpu.user + cpu.system) / 1e6}\n`);
  });
}
