/**
 * `--metrics-file PATH` (build, verify, publish, rollback, tune, gc): after the command, whatever
 * its outcome, the runner hands its result or error here and a Prometheus text file is written for
 * node_exporter's textfile collector (docs/operations.md#metrics). Every file has the run's exit
 * code, duration and end time; the rest comes from the command's report when there is one: vectors
 * and bytes of a build, each verify check's outcome (also the verify a publish runs, and the report
 * a refused publish carries), the published version and its publish.log time, tune's recall, gc's
 * removals.
 */
import { statSync } from 'node:fs';
import path from 'node:path';

import type { BuildJson } from '../commands/build.js';
import type { CommandOutput } from '../commands/context.js';
import type { GcJson } from '../commands/gc.js';
import type { PublishJson } from '../commands/publish.js';
import type { TuneJson } from '../commands/tune.js';
import type { VerifyJson } from '../commands/verify.js';
import type { PublishReport } from '../core/lifecycle/publish.js';
import { UsageError } from '../core/errors.js';
import type { GaugeFamily, GaugeSample } from '../core/metrics/textfile.js';
import type { VerifyReport } from '../core/verify/types.js';

/** What a command came to: the runner's after-run hook receives this. */
export interface CommandResult {
  command: string;
  exitCode: number;
  seconds: number;
  /** When the command finished. */
  finishedAt: Date;
  /** The command's output when it returned (its exit code may still be non-zero: verify). */
  output?: CommandOutput;
  /** What it threw otherwise. */
  error?: unknown;
}

const OUTCOMES = ['pass', 'fail', 'skip'] as const;

/**
 * Checked before the command runs, so a mistyped path fails at once (exit 2) instead of after an
 * hour-long build: the directory must exist, and the path must not be a directory.
 */
export function checkMetricsFile(file: string): string {
  const resolved = path.resolve(file);
  const dir = path.dirname(resolved);
  if (statSync(dir, { throwIfNoEntry: false })?.isDirectory() !== true) {
    throw new UsageError(`--metrics-file ${file}: directory ${dir} does not exist`);
  }
  if (statSync(resolved, { throwIfNoEntry: false })?.isDirectory() === true) {
    throw new UsageError(
      `--metrics-file ${file}: is a directory; give a file name (e.g. indexctl-build.prom)`,
    );
  }
  return resolved;
}

function family(
  name: string,
  help: string,
  labelNames: readonly string[],
  samples: GaugeSample[],
): GaugeFamily {
  return { name, help, labelNames, samples };
}

/** Verify's checks as a state set: one series per check and outcome, 1 for the outcome it had. */
function verifyFamilies(command: string, report: VerifyReport): GaugeFamily[] {
  const base = { command, version: report.version };
  const checks: GaugeSample[] = [];
  const seen = new Set<string>();
  for (const c of report.checks) {
    const key = `${c.name}\0${c.target ?? ''}`;
    // A check that ran twice on the same target keeps its first outcome (series must be unique).
    if (seen.has(key)) continue;
    seen.add(key);
    for (const outcome of OUTCOMES) {
      checks.push({
        labels: { ...base, check: c.name, target: c.target ?? '', outcome },
        value: c.outcome === outcome ? 1 : 0,
      });
    }
  }
  return [
    family(
      'indexctl_verify_check',
      'Outcome of each verify check: 1 on the series of the outcome it had (pass, fail or skip)',
      ['command', 'version', 'check', 'target', 'outcome'],
      checks,
    ),
    family(
      'indexctl_verify_checks',
      'Verify checks by outcome',
      ['command', 'version', 'outcome'],
      OUTCOMES.map((outcome) => ({
        labels: { ...base, outcome },
        value: report.checks.filter((c) => c.outcome === outcome).length,
      })),
    ),
    family(
      'indexctl_verify_level',
      'Verify level run (1, 2 or 3)',
      ['command', 'version'],
      [{ labels: base, value: report.level }],
    ),
  ];
}

function publishFamilies(command: string, report: PublishReport): GaugeFamily[] {
  const families = verifyFamilies(command, report.verify);
  if (report.outcome === 'published' && report.logEntry !== null) {
    const labels = { command, version: report.version };
    families.push(
      family(
        'indexctl_published_version_info',
        'The version this run published (CURRENT now), and the one it replaced',
        ['command', 'version', 'from'],
        [{ labels: { ...labels, from: report.from ?? '' }, value: 1 }],
      ),
      family(
        'indexctl_published_timestamp_seconds',
        'When this run flipped CURRENT (its publish.log time), Unix seconds',
        ['command', 'version'],
        [{ labels, value: Date.parse(report.logEntry.ts) / 1000 }],
      ),
    );
  }
  return families;
}

function versionFamilies(command: string, version: string, vectors: number, bytes?: number): GaugeFamily[] {
  const labels = { command, version };
  return [
    family(
      'indexctl_version_vectors',
      'Vectors in the version the command worked on',
      ['command', 'version'],
      [{ labels, value: vectors }],
    ),
    family(
      'indexctl_version_bytes',
      'Bytes of the files of the version the command wrote (manifest files)',
      ['command', 'version'],
      bytes === undefined ? [] : [{ labels, value: bytes }],
    ),
  ];
}

function buildFamilies(json: BuildJson): GaugeFamily[] {
  if (json.manifest === undefined) return [];
  const bytes = Object.values(json.manifest.files).reduce((sum, f) => sum + f.bytes, 0);
  const families = versionFamilies('build', json.version, json.manifest.vectors_count, bytes);
  families.push(
    family(
      'indexctl_build_phase_seconds',
      'Time of each build phase, seconds',
      ['command', 'version', 'phase'],
      Object.entries(json.seconds).map(([phase, seconds]) => ({
        labels: { command: 'build', version: json.version, phase },
        value: seconds,
      })),
    ),
  );
  if (json.publish) families.push(...publishFamilies('build', json.publish));
  return families;
}

function tuneFamilies(json: TuneJson): GaugeFamily[] {
  const labels = { command: 'tune', version: json.version };
  const point = json.chosen ?? json.best;
  const names = ['command', 'version'];
  return [
    ...versionFamilies('tune', json.version, json.vectors),
    family('indexctl_tune_target_met', '1 when a setting reached the target recall', names, [
      { labels, value: json.met ? 1 : 0 },
    ]),
    family(
      'indexctl_tune_recall',
      'recall@k of the chosen setting (or the best one when none met the target)',
      names,
      point?.recall != null ? [{ labels, value: point.recall }] : [],
    ),
    family(
      'indexctl_tune_qps',
      'Queries per second of the chosen setting (or the best one)',
      names,
      point?.qps != null ? [{ labels, value: point.qps }] : [],
    ),
  ];
}

function gcFamilies(json: GcJson): GaugeFamily[] {
  const labels = { command: 'gc', dry_run: String(json.dryRun) };
  const names = ['command', 'dry_run'];
  return [
    family('indexctl_gc_removed_items', 'Versions and leftovers gc removed (or would, dry run)', names, [
      { labels, value: json.removed.length },
    ]),
    family('indexctl_gc_removed_bytes', 'Bytes gc freed (or would, dry run)', names, [
      { labels, value: json.bytes },
    ]),
  ];
}

/** What the command's report (or the report a refused publish carries) adds to the file. */
function reportFamilies(result: CommandResult): GaugeFamily[] {
  const json = result.output?.json;
  if (json === undefined) {
    // A publish refused by its verify gate carries the failing report: its checks say why.
    const report = (result.error as { report?: VerifyReport } | undefined)?.report;
    return report?.checks !== undefined ? verifyFamilies(result.command, report) : [];
  }
  switch (result.command) {
    case 'build':
      return buildFamilies(json as BuildJson);
    case 'verify':
      return verifyFamilies('verify', json as VerifyJson);
    case 'publish':
    case 'rollback':
      return publishFamilies(result.command, json as PublishJson);
    case 'tune':
      return tuneFamilies(json as TuneJson);
    case 'gc':
      return gcFamilies(json as GcJson);
    default:
      return [];
  }
}

/** Every gauge of the file for this run. */
export function commandFamilies(result: CommandResult): GaugeFamily[] {
  const labels = { command: result.command };
  const names = ['command'];
  return [
    family('indexctl_command_exit_code', 'Exit code of the last run (docs/spec.md#exit-codes)', names, [
      { labels, value: result.exitCode },
    ]),
    family('indexctl_command_success', '1 when the last run exited 0', names, [
      { labels, value: result.exitCode === 0 ? 1 : 0 },
    ]),
    family('indexctl_command_duration_seconds', 'Wall time of the last run, seconds', names, [
      { labels, value: result.seconds },
    ]),
    family('indexctl_command_last_run_timestamp_seconds', 'When the last run finished, Unix seconds', names, [
      { labels, value: result.finishedAt.getTime() / 1000 },
    ]),
    ...reportFamilies(result),
  ];
}

/** Renders and writes the file; prom-client loads only for runs that ask for metrics. */
export async function writeMetricsFile(file: string, result: CommandResult): Promise<void> {
  const { renderGauges, writeTextfile } = await import('../core/metrics/textfile.js');
  await writeTextfile(file, await renderGauges(commandFamilies(result)));
}
