import { serve, type ServeReport } from '../core/serve/serve.js';
import type { CommandOptions, serve as serveCommand } from '../cli-options.js';
import type { CommandContext, CommandOutput } from './context.js';

export type ServeJson = ServeReport & { schema: 'indexctl.serve/1' };

/** Serves until SIGINT/SIGTERM (or, on stdio, the end of stdin); then reports what it served. */
export async function run(ctx: CommandContext<CommandOptions<typeof serveCommand>>): Promise<CommandOutput> {
  const o = ctx.options;
  const stop = new AbortController();
  const onSignal = () => stop.abort();
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  let report: ServeReport;
  try {
    report = await serve({
      root: ctx.globals.root,
      ...(o.http !== undefined ? { http: o.http } : {}),
      pollIntervalMs: o.pollInterval,
      verifyChecksum: o.verifyChecksum,
      signal: stop.signal,
      // stdout may be the MCP channel: everything for people goes to stderr.
      log: (line) => {
        if (!ctx.globals.quiet) ctx.io.stderr.write(`indexctl serve: ${line}\n`);
      },
    });
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
  const json: ServeJson = { schema: 'indexctl.serve/1', ...report };
  const summary =
    `served ${report.first_version}${report.last_version !== report.first_version ? ` .. ${report.last_version}` : ''}: ` +
    `${report.calls} calls (${report.failed_calls} failed), ${report.switches} switches, ${report.follow_errors} follow errors`;
  if (report.transport === 'stdio') {
    if (!ctx.globals.quiet) ctx.io.stderr.write(`indexctl serve: ${summary}\n`);
    return { json, render: () => summary, stdoutTaken: true };
  }
  return { json, render: () => summary };
}
