/** Assembling a version's manifest.json from its files (schema, parsing and reading in schema.ts): shared by build and write-manifest. */
import { packageVersion } from '../build-info.js';
import { FaissIndex } from '../faiss/index.js';
import { CHECKSUMMED_FILES } from '../layout.js';
import {
  computeFileEntries,
  type IncrementalManifest,
  type Manifest,
  type ManifestFileEntry,
  type Metric,
} from './schema.js';

export interface ManifestFacts {
  version: string;
  factory: string;
  metric: Metric;
  dim: number;
  vectors: number;
  attrs?: Record<string, unknown>;
  /** An incremental build's base and what it changed (build --base). */
  baseVersion?: string;
  incremental?: IncrementalManifest;
  onChecksumProgress?: (name: string, done: number, total: number) => void;
  signal?: AbortSignal;
  /** Entries already computed (a build hashes each file as soon as it is final); the rest are hashed here. */
  files?: Readonly<Record<string, ManifestFileEntry>>;
}

export async function assembleManifest(versionDir: string, facts: ManifestFacts): Promise<Manifest> {
  const known = facts.files ?? {};
  const computed = await computeFileEntries(
    versionDir,
    CHECKSUMMED_FILES.filter((name) => known[name] === undefined),
    {
      ...(facts.onChecksumProgress ? { onProgress: facts.onChecksumProgress } : {}),
      ...(facts.signal ? { signal: facts.signal } : {}),
    },
  );
  const files = Object.fromEntries(CHECKSUMMED_FILES.map((name) => [name, known[name] ?? computed[name]!]));
  const info = FaissIndex.buildInfo();
  return {
    schema_version: 1,
    version: facts.version,
    created_ts: Date.now() / 1000,
    faiss_factory: facts.factory,
    metric: facts.metric,
    vec_dim: facts.dim,
    vectors_count: facts.vectors,
    chunks_checksum: files['chunks.parquet']!.checksum,
    idmap_checksum: files['idmap.parquet']!.checksum,
    index_checksum: files['faiss.index']!.checksum,
    files,
    tuning: null,
    ...(facts.baseVersion !== undefined ? { base_version: facts.baseVersion } : {}),
    ...(facts.incremental ? { incremental: facts.incremental } : {}),
    attrs: {
      tool: `indexctl ${packageVersion()}`,
      faiss: `${info.faissVersion} ${info.simd}`,
      ...facts.attrs,
    },
  };
}
