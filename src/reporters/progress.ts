/**
 * Progress on stderr for a person at a terminal: a spinner with the phase, a percentage and, once
 * a rate has been measured, an ETA. Shown only when stderr is a terminal at least MIN_COLUMNS wide
 * (a 0-column pseudo-terminal made ora clear "Infinity" lines forever) and neither --json nor
 * --quiet was given. NO_COLOR removes colour, not progress. ora is imported only when shown.
 *
 * ora's `discardStdin` puts stdin in raw mode and turns Ctrl-C into an emitted 'SIGINT' event that
 * nothing listens to, so Ctrl-C was ignored while the spinner ran: it is off here, and Ctrl-C stays
 * a real signal.
 */
import { formatBytes } from '../core/util/units.js';
import type { OutputStream } from './terminal.js';

export interface ProgressLine {
  update(label: string, done: number, total: number, unit: string): void;
  stop(): void;
}

export interface ProgressOptions {
  json: boolean;
  quiet: boolean;
}

const MIN_COLUMNS = 20;
/** No rate (and so no ETA) before this much of a phase has run: first batches are not typical. */
const WARM_UP_MS = 2_000;
const WARM_UP_FRACTION = 0.02;

const silent: ProgressLine = { update: () => {}, stop: () => {} };

export function progressShown(stderr: OutputStream, options: ProgressOptions): boolean {
  return stderr.isTTY && stderr.columns >= MIN_COLUMNS && !options.json && !options.quiet;
}

function amount(n: number, unit: string): string {
  if (unit === 'bytes') return formatBytes(n);
  return `${Math.round(n).toLocaleString('en-US')}${unit ? ` ${unit}` : ''}`;
}

function duration(seconds: number): string {
  if (seconds < 90) return `${Math.ceil(seconds)} s`;
  if (seconds < 5400) return `${Math.round(seconds / 60)} min`;
  return `${(seconds / 3600).toFixed(1)} h`;
}

/**
 * The text of one progress line: rate and ETA from the progress made since the warm-up ended, so a
 * phase whose first update arrives with much already done does not report an absurd rate.
 */
export class ProgressText {
  private phase = '';
  private mark: { at: number; done: number } | undefined;
  private phaseStart = 0;

  format(label: string, done: number, total: number, unit: string, now = performance.now()): string {
    if (label !== this.phase) {
      this.phase = label;
      this.phaseStart = now;
      this.mark = undefined;
    }
    const warm = now - this.phaseStart >= WARM_UP_MS || (total > 0 && done / total >= WARM_UP_FRACTION);
    if (warm && this.mark === undefined) this.mark = { at: now, done };
    const pct = total > 0 ? ` ${Math.min(100, (100 * done) / total).toFixed(0)}%` : '';
    let tail = '';
    if (this.mark && now - this.mark.at >= 1_000 && done > this.mark.done) {
      const rate = (done - this.mark.done) / ((now - this.mark.at) / 1000);
      tail = `, ${amount(rate, unit)}/s`;
      if (total > done) tail += `, ETA ${duration((total - done) / rate)}`;
    }
    const of = total > 0 ? `${amount(done, unit)} of ${amount(total, unit)}` : amount(done, unit);
    return `${label}${pct}: ${of}${tail}`;
  }
}

export async function progressLine(stderr: OutputStream, options: ProgressOptions): Promise<ProgressLine> {
  if (!progressShown(stderr, options)) return silent;
  const { default: ora } = await import('ora');
  const spinner = ora({
    stream: process.stderr,
    discardStdin: false,
    // The decision is progressShown's: ora would also hide itself whenever a CI variable is set,
    // even on a terminal a person watches, and then draw nothing at all.
    isEnabled: true,
    color: stderr.colour ? 'cyan' : false,
  }).start();
  const text = new ProgressText();
  let phase = '';
  return {
    update(label, done, total, unit) {
      spinner.text = text.format(label, done, total, unit);
      // A new phase is drawn at once: a short one (hashing a small version) would otherwise pass
      // between two spinner frames without being seen.
      if (label !== phase) spinner.render();
      phase = label;
    },
    stop() {
      spinner.stop();
    },
  };
}

/**
 * Runs `work` with a progress line on stderr (a silent one where none is shown), stopped however
 * `work` ends: the one way commands show progress.
 */
export async function withProgress<T>(
  stderr: OutputStream,
  options: ProgressOptions,
  work: (progress: ProgressLine) => Promise<T>,
): Promise<T> {
  const progress = await progressLine(stderr, options);
  try {
    return await work(progress);
  } finally {
    progress.stop();
  }
}
