/** Chunks fixtures for build tests, written by DuckDB as real pipelines write them. */
import { copyToParquet } from './duckdb-parquet.js';

export interface ChunkFixture {
  rows?: number;
  dim?: number;
  /** SQL expression for the id column (`i` is the row number). */
  id?: string;
  /** SQL expression for the embedding column; default pseudo-random FLOAT[dim]. */
  embedding?: string;
  where?: string;
  rowGroupSize?: number;
}

/** id, uri, lang, start_line, end_line, text, embedding — ids i*1000+7 unless overridden. */
export async function writeChunks(file: string, f: ChunkFixture = {}): Promise<void> {
  const rows = f.rows ?? 3000;
  const dim = f.dim ?? 16;
  const embedding =
    f.embedding ?? `list_transform(range(${dim}), j -> ((hash(i * 131 + j) % 2000) / 1000.0 - 1.0)::FLOAT)`;
  const select = `SELECT (${f.id ?? 'i * 1000 + 7'})::BIGINT AS id, 'src/f' || (i % 13) || '.ts' AS uri, 'typescript' AS lang,
      (i * 10)::INTEGER AS start_line, (i * 10 + 9)::INTEGER AS end_line, 'chunk ' || i AS text,
      ${embedding} AS embedding
    FROM range(${rows}) t(i) ${f.where ? `WHERE ${f.where}` : ''} ORDER BY i`;
  await copyToParquet(file, select, f.rowGroupSize ?? 1024);
}
