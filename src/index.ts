/** The library: the same core the CLI commands are thin layers over. */
export * from './core/errors.js';
export { FaissIndex } from './core/faiss/index.js';
export { readIndexChecked } from './core/version/read-index.js';
export type {
  Metric,
  ParameterRange,
  ReadOptions,
  SearchResult,
  StructureReport,
} from './core/faiss/index.js';
export { doctor } from './core/lifecycle/doctor.js';
export type { DoctorReport } from './core/lifecycle/doctor.js';
export { packageVersion, faissBuildFacts } from './core/build-info.js';
export { build } from './core/build/build.js';
export type { BuildOptions, BuildProgress, BuildReport } from './core/build/build.js';
export { BUILD_STAGES, type BuildStage } from './core/build/stages.js';
export { planBuild } from './core/build/plan.js';
export type { BuildMetric, BuildPlan } from './core/build/plan.js';
export { writeManifest } from './core/adopt/write-manifest.js';
export type { WriteManifestOptions, WriteManifestReport } from './core/adopt/write-manifest.js';
export { exportIdMap } from './core/adopt/export-idmap.js';
export type { ExportIdMapOptions, ExportIdMapReport } from './core/adopt/export-idmap.js';
export { sampleChunks } from './core/sample/sample-chunks.js';
export type { SampleOptions, SampleResult } from './core/sample/sample-chunks.js';
export { LegacyManifestError, ManifestError, readAnyManifest, readManifest } from './core/manifest/schema.js';
export type { LegacyManifest, Manifest, ParsedManifest } from './core/manifest/schema.js';
export type { DuckDBLimits } from './core/catalog/duckdb-limits.js';
export type { IndexHealth } from './core/search/open-index.js';
export {
  verify,
  CHECKS_BY_LEVEL,
  DEFAULT_LEVEL,
  DEFAULT_SMOKE,
  DEFAULT_MIN_RECALL,
} from './core/verify/verify.js';
export type { CheckResult, Outcome, VerifyOptions, VerifyReport } from './core/verify/verify.js';
export {
  publish,
  rollback,
  findRollbackTarget,
  CurrentMismatchError,
  EXPECT_NONE,
} from './core/lifecycle/publish.js';
export type {
  PublishOptions,
  PublishOutcome,
  PublishReport,
  RollbackOptions,
} from './core/lifecycle/publish.js';
export { readPublishLog, rollbackTarget } from './core/lifecycle/publish-log.js';
export type { PublishLog, PublishLogEntry } from './core/lifecycle/publish-log.js';
export { status } from './core/lifecycle/status.js';
export type { StatusReport, VersionStatus } from './core/lifecycle/status.js';
export { diff } from './core/lifecycle/diff.js';
export type {
  DiffOptions,
  DiffReport,
  DiffSide,
  FileDiff,
  FieldDiff,
  IdDiff,
} from './core/lifecycle/diff.js';
export { pin, unpin, readPins } from './core/lifecycle/pins.js';
export type { PinOptions, PinReport, Pins } from './core/lifecycle/pins.js';
export { gc, DEFAULT_KEEP } from './core/lifecycle/gc.js';
export type { GcLeftover, GcOptions, GcReport, GcVersion, KeepReason } from './core/lifecycle/gc.js';
export { parseDuration } from './core/util/units.js';
export { openIndex, IndexHandle } from './core/search/open-index.js';
export type { OpenIndexOptions, SearchHit } from './core/search/open-index.js';
export { IndexMetrics } from './core/metrics/index-metrics.js';
export type { HydrationOp, IndexMetricsOptions } from './core/metrics/index-metrics.js';
export type { IndexTarget } from './core/search/target.js';
export { FollowingIndex } from './core/search/follow.js';
export type { FollowOptions, FollowStats, FollowTarget, SwitchEvent } from './core/search/follow.js';
export { searchVersion } from './core/search/search.js';
export type { SearchOptions, SearchReport, QueryResult } from './core/search/search.js';
export { readQueryVectors } from './core/search/query-file.js';
export type { QueryVectors } from './core/search/query-file.js';
export { appendPool, poolParts, POOL_COLUMNS, POOL_SCHEMA } from './core/search/pool.js';
export type { PoolRow, PoolAppendReport } from './core/search/pool.js';
export { applyTuning, tuningParameters } from './core/search/tuning-params.js';
export { tune } from './core/tune/tune.js';
export type { TuneOptions, TunePoint, TuneReport } from './core/tune/tune.js';
export { asciiChart, svgChart } from './reporters/tune-chart.js';
