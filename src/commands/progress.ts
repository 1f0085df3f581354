/**
 * A spinner with a rate and ETA on stderr, only when stderr is a TTY, NO_COLOR is unset, and
 * neither --json nor --quiet was given. ora is imported only when it will be shown.
 */
import type { GlobalOptions } from './context.js';

export interface ProgressLine {
  update(label: string, done: number, total: number, unit: string): void;
  stop(): void;
}

const silent: ProgressLine = { update: () => {}, stop: () => {} };

export async function progressLine(globals: GlobalOptions): Promise<ProgressLine> {
  if (!process.stderr.isTTY || globals.json || globals.quiet || process.env.NO_COLOR !== undefined)
    return silent;
  const { default: ora } = await import('ora');
  const spinner = ora({ stream: process.stderr }).start();
  let phase = '';
  let phaseStart = performance.now();
  return {
    update(label, done, total, unit) {
      if (label !== phase) {
        phase = label;
        phaseStart = performance.now();
      }
      const secs = (performance.now() - phaseStart) / 1000;
      const rate = secs > 0 ? done / secs : 0;
      const eta = rate > 0 && total > done ? ` ETA ${Math.ceil((total - done) / rate)} s` : '';
      spinner.text = `${label}: ${done.toLocaleString()}/${total.toLocaleString()} ${unit} (${Math.round(rate).toLocaleString()}/s)${eta}`;
    },
    stop() {
      spinner.stop();
    },
  };
}
