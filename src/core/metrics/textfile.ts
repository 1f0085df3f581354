/**
 * Prometheus text files for node_exporter's textfile collector: gauges rendered by prom-client (so
 * names, HELP/TYPE lines and label escaping follow the exposition format), written atomically the
 * way the collector needs: a temp file in the same directory, synced, renamed over the target. The
 * collector reads only `*.prom` files, and the temp name (`.<name>.<pid>.<hex>.tmp`) is not one,
 * so a scrape sees the previous run's file or this one, never half of one.
 */
import { Gauge, Registry } from 'prom-client';

import { writeFileDurable } from '../util/fsync.js';

export interface GaugeSample {
  labels: Record<string, string>;
  value: number;
}

export interface GaugeFamily {
  name: string;
  help: string;
  labelNames: readonly string[];
  samples: GaugeSample[];
}

/** The families in the text exposition format; a family without samples is left out. */
export async function renderGauges(families: readonly GaugeFamily[]): Promise<string> {
  const registry = new Registry();
  for (const family of families) {
    if (family.samples.length === 0) continue;
    const gauge = new Gauge({
      name: family.name,
      help: family.help,
      labelNames: [...family.labelNames],
      registers: [registry],
    });
    for (const sample of family.samples) gauge.set(sample.labels, sample.value);
  }
  const text = await registry.metrics();
  // The text format ends every line with a line feed, the last one included; prom-client leaves
  // the last off, and node_exporter's parser is not one to rely on being lenient.
  return text.endsWith('\n') ? text : `${text}\n`;
}

/** Replaces `file` with `text` atomically and durably (EnvironmentIoError when refused). */
export async function writeTextfile(file: string, text: string): Promise<void> {
  await writeFileDurable(file, text);
}
