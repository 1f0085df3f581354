import { doctor, type DoctorReport } from '../core/lifecycle/doctor.js';
import type { CommandContext, CommandOutput } from './context.js';

export type DoctorJson = DoctorReport & { schema: 'indexctl.doctor/1' };

export async function run(_ctx: CommandContext): Promise<CommandOutput> {
  const report = await doctor();
  const json: DoctorJson = { schema: 'indexctl.doctor/1', ...report };
  const text = [
    `indexctl ${report.indexctl}`,
    `FAISS    ${report.faiss.faissVersion} ${report.faiss.simd} (${report.faiss.source})`,
    `threads  ${report.threads}`,
    `check    ${report.check.className}: ${report.check.vectors} vectors, self-search rank-1 ${report.check.selfHits}/${report.check.queries} in ${report.check.ms.toFixed(1)} ms`,
  ].join('\n');
  return { json, render: () => text, exitCode: report.check.selfHits === report.check.queries ? 0 : 1 };
}
