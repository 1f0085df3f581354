/** The library: the same core the CLI commands are thin layers over. */
export * from './core/errors.js';
export { FaissIndex } from './core/faiss/index.js';
export type { Metric, ParameterRange, ReadOptions, SearchResult } from './core/faiss/index.js';
export { doctor } from './core/doctor.js';
export type { DoctorReport } from './core/doctor.js';
export { packageVersion, faissBuildFacts } from './core/build-info.js';
