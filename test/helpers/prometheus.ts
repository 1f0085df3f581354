/**
 * Parses Prometheus text with a real parser: Debian's python3-prometheus-client
 * (`prometheus_client.parser.text_string_to_metric_families`), which raises on anything malformed.
 */
import { runPython } from './python.js';

export interface ParsedSample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

export interface ParsedFamily {
  name: string;
  type: string;
  help: string;
  samples: ParsedSample[];
}

const SCRIPT = `
import json, sys
from prometheus_client.parser import text_string_to_metric_families
text = open(sys.argv[1]).read() if len(sys.argv) > 1 else sys.stdin.read()
out = [{"name": f.name, "type": f.type, "help": f.documentation,
        "samples": [{"name": s.name, "labels": s.labels, "value": s.value} for s in f.samples]}
       for f in text_string_to_metric_families(text)]
print(json.dumps(out))
`;

/** The families of a text file (throws with Python's error when it does not parse). */
export function parsePrometheusFile(file: string): ParsedFamily[] {
  return runPython<ParsedFamily[]>(SCRIPT, [file]);
}

/** The value of the one sample named `name` whose labels include `labels`. */
export function sampleValue(
  families: ParsedFamily[],
  name: string,
  labels: Record<string, string> = {},
): number | undefined {
  const matches = families
    .flatMap((f) => f.samples)
    .filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v));
  if (matches.length > 1)
    throw new Error(`${matches.length} samples match ${name} ${JSON.stringify(labels)}`);
  return matches[0]?.value;
}
