/**
 * `index.header`: faiss.index's serialization walked before FAISS reads it (faiss/file-header.ts).
 * A count or length the file cannot hold is corruption (4), found in milliseconds instead of a probe
 * that allocates what the header claims until its memory bound or the OOM killer ends it.
 */
import { checkIndexFile } from '../faiss/file-header.js';
import { Check, type CheckResult } from './types.js';

export async function checkHeader(file: string): Promise<CheckResult> {
  const check = new Check('index.header');
  try {
    const shape = await checkIndexFile(file);
    if (shape.unknown) {
      const u = shape.unknown;
      return check.pass(
        `${shape.layout}: walked to ${u.field} at offset ${u.offset}, a type this check does not know ` +
          `("${u.fourcc}"); what follows is left to FAISS under the probe's time and memory bounds`,
      );
    }
    return check.pass(
      `${shape.layout}, ntotal ${shape.ntotal}, d ${shape.d}: every count fits the file's ${shape.bytes} bytes`,
    );
  } catch (err) {
    return check.failWith(err);
  }
}
