/**
 * verify on a version whose manifest.json is a legacy one (the Python pipeline's VersionManifest:
 * no schema_version, metric, index_checksum or files). Such a version is not sealed by indexctl, so
 * `manifest.legacy` fails (exit 3) with the write-manifest command that adopts it; the checks that
 * need nothing the legacy manifest lacks still run, so the operator learns before adopting whether
 * the pipeline's files agree with what it recorded:
 *
 *   level 1  manifest.legacy, files.present (manifest.json, chunks.parquet, faiss.index; the idmap
 *            and catalog are derived on adoption when missing)
 *   level 2  + index.load, index.dim, index.count, index.factory, index.idmap2 (against faiss.index,
 *            read in the probe process), and idmap.* when idmap.parquet exists
 *
 * No checksum is compared (the pipeline's format is not known to be XXH64; they are recorded under
 * attrs on adoption) and nothing reads the catalog or runs the smoke search: both need a sealed version.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';

import { BadInputError } from '../errors.js';
import { factoryClassName, sameStructure, withIdMap2 } from '../faiss/factory-class.js';
import { VERSION_FILES } from '../layout.js';
import { adoptCommand, manifestPath, type LegacyManifest } from '../manifest/schema.js';
import { readIdMap } from '../parquet/idmap-reader.js';
import { checkPresent } from './file-checks.js';
import { checkMatchesIndex, checkOrder, checkRows, checkUnique } from './idmap-checks.js';
import { checkIdMap2, loadResult } from './index-checks.js';
import { IndexProbe, type ProbeBounds } from './probe-client.js';
import type { IndexFacts } from './probe-protocol.js';
import { Check, type CheckResult } from './types.js';

export interface LegacyVerifyOptions {
  root: string;
  level: 1 | 2 | 3;
  threads?: number;
  /** The probe's time and memory bounds (probe-client.ts probeBounds). */
  probeBounds?: ProbeBounds;
}

const IDMAP_CHECKS = ['idmap.rows', 'idmap.order', 'idmap.unique', 'idmap.matches_index'] as const;
const INDEX_CHECKS = ['index.dim', 'index.count', 'index.factory', 'index.idmap2'] as const;

/** `manifest.legacy`: always a failure (3), saying what was found and the command that adopts it. */
export function legacyResult(
  dir: string,
  version: string,
  legacy: LegacyManifest,
  root: string,
): CheckResult {
  const check = new Check('manifest.legacy');
  const found =
    `${manifestPath(dir)} is a legacy manifest (the Python VersionManifest: ${legacy.faiss_factory}, ` +
    `${legacy.vectors_count} x ${legacy.vec_dim}${legacy.tuning ? `, tuned (${legacy.tuning.family})` : ''}; ` +
    `no schema_version, metric, index_checksum or files)`;
  const named =
    legacy.version === version ? '' : `; it names version ${legacy.version}, its directory is ${version}`;
  return check.fail(
    `${found}${named}: the version must be adopted before it can be verified in full or published: ` +
      `\`${adoptCommand(version).replace('indexctl ', `indexctl --root ${root} `)}\` ` +
      `(add --metric cosine for a cosine index)`,
    3,
  );
}

function skipAll(names: readonly string[], why: string): CheckResult[] {
  return names.map((name) => new Check(name).skip(why));
}

export async function verifyLegacy(
  dir: string,
  version: string,
  legacy: LegacyManifest,
  options: LegacyVerifyOptions,
): Promise<CheckResult[]> {
  const checks = [
    legacyResult(dir, version, legacy, options.root),
    await checkPresent(dir, [VERSION_FILES.manifest, VERSION_FILES.chunks, VERSION_FILES.index]),
  ];
  if (options.level === 1) return checks;
  const indexFile = path.join(dir, VERSION_FILES.index);
  if (!existsSync(indexFile)) {
    checks.push(new Check('index.load').skip(`${indexFile} is missing (see files.present)`));
    checks.push(...skipAll([...INDEX_CHECKS, ...IDMAP_CHECKS], 'faiss.index is missing'));
    return checks;
  }
  const probe = new IndexProbe(options.probeBounds);
  let facts: IndexFacts | undefined;
  const start = performance.now();
  try {
    try {
      facts = await probe.load(indexFile, options.threads);
      checks.push(loadResult(indexFile, performance.now() - start, { facts }));
    } catch (error) {
      checks.push(loadResult(indexFile, performance.now() - start, { error }));
    }
  } finally {
    probe.close();
  }
  if (!facts) {
    checks.push(
      ...skipAll([...INDEX_CHECKS, ...IDMAP_CHECKS], 'faiss.index was not loaded (see index.load)'),
    );
    return checks;
  }
  checks.push(
    checkDim(facts, legacy),
    checkCount(facts, legacy),
    await checkFactory(facts, legacy),
    checkIdMap2(facts),
  );
  checks.push(...(await idmapChecks(dir, facts)));
  return checks;
}

function checkDim(facts: IndexFacts, legacy: LegacyManifest): CheckResult {
  const check = new Check('index.dim');
  return facts.d === legacy.vec_dim
    ? check.pass(`d = ${facts.d} = legacy manifest vec_dim`)
    : check.fail(`faiss.index has d = ${facts.d}, legacy manifest vec_dim is ${legacy.vec_dim}`, 3);
}

function checkCount(facts: IndexFacts, legacy: LegacyManifest): CheckResult {
  const check = new Check('index.count');
  return facts.ntotal === legacy.vectors_count
    ? check.pass(`ntotal = ${facts.ntotal} = legacy manifest vectors_count`)
    : check.fail(
        `faiss.index holds ${facts.ntotal} vectors, legacy manifest vectors_count is ${legacy.vectors_count}`,
        3,
      );
}

/** `index.factory`: the recorded factory string builds the class faiss.index holds. */
async function checkFactory(facts: IndexFacts, legacy: LegacyManifest): Promise<CheckResult> {
  const check = new Check('index.factory');
  const factory = withIdMap2(legacy.faiss_factory);
  let className: string;
  try {
    className = await factoryClassName(factory, facts.d, facts.metric === 'ip' ? 'ip' : 'l2');
  } catch (err) {
    if (!(err instanceof BadInputError)) throw err;
    return check.fail(`legacy manifest faiss_factory ${legacy.faiss_factory}: ${err.message}`, 3);
  }
  return sameStructure(className, facts.className)
    ? check.pass(`faiss_factory ${legacy.faiss_factory} builds ${className}, as faiss.index holds`)
    : check.fail(
        `legacy manifest faiss_factory ${legacy.faiss_factory} builds ${className}, but faiss.index is ${facts.className}`,
        3,
      );
}

async function idmapChecks(dir: string, facts: IndexFacts): Promise<CheckResult[]> {
  const file = path.join(dir, VERSION_FILES.idmap);
  if (!existsSync(file)) {
    return skipAll(IDMAP_CHECKS, 'no idmap.parquet: write-manifest derives it from the index on adoption');
  }
  const start = performance.now();
  let idmap;
  try {
    idmap = await readIdMap(file);
  } catch (err) {
    return [
      new Check('idmap.rows', undefined, performance.now() - start).failWith(err),
      ...skipAll(IDMAP_CHECKS.slice(1), 'idmap.parquet could not be read (see idmap.rows)'),
    ];
  }
  const rows = checkRows(idmap, facts.ntotal, 'faiss.index ntotal', performance.now() - start);
  const matches = facts.idMap
    ? checkMatchesIndex(idmap, facts.idMap)
    : new Check('idmap.matches_index').skip(`faiss.index has no id map: ${facts.idMapError ?? ''}`);
  return [rows, checkOrder(idmap), checkUnique(idmap), matches];
}
