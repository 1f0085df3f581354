/**
 * The messages between verify and its index probe (src/probe/index-probe-child.ts), a child process that is the only
 * place FAISS reads a version's faiss.index. They travel over Node's IPC channel with the "advanced"
 * serialization, so typed arrays (the id map, query vectors, results) cross as one copy, not as JSON.
 */
import type { MetricName, NativeStructureReport } from '../faiss/native.js';

export type ProbeRequest =
  | { op: 'load'; file: string; threads?: number }
  | { op: 'parameters'; spec: string }
  | { op: 'search'; queries: Float32Array; k: number };

/** What verify needs to know about the index, gathered in the child right after the read. */
export interface IndexFacts {
  className: string;
  d: number;
  ntotal: number;
  metric: MetricName;
  isTrained: boolean;
  /** Search parameters stored in the index (nprobe, efSearch, k_factor_rf, ...). */
  parameters: Record<string, number>;
  /** Row -> external id; null when the index has no IDMap wrapper (then `idMapError` says why). */
  idMap: BigInt64Array | null;
  idMapError?: string;
  /** IndexIDMap2::check_consistency; null when the index is not an IndexIDMap2. */
  consistency: { ok: true } | { ok: false; message: string } | null;
  /** Milliseconds spent in faiss::read_index. */
  readMs: number;
  /**
   * The structural walk (FaissIndex.checkStructure), run right after the read and before anything
   * searches: a failed one means the probe refuses every search request.
   */
  structure: NativeStructureReport & { ms: number };
}

export type ProbeReply =
  /** Sent once the FAISS addon is loaded, before any file is read: a death after it is the file's doing. */
  | { op: 'ready' }
  | { op: 'loaded'; facts: IndexFacts }
  | { op: 'parameters'; before: Record<string, number>; after: Record<string, number> }
  | { op: 'searched'; distances: Float32Array; labels: BigInt64Array; ms: number }
  | { op: 'error'; name: string; message: string };
