/**
 * A process entry point (it prints and exits), so it lives in src/probe/, outside src/core where nothing does.
 * The index probe: run by verify as a child process (`node index-probe-child.js`, with an IPC channel) so
 * that a faiss.index that crashes FAISS kills this process, not the tool. It reads the index once
 * and answers verify's requests (facts, parameters, searches) until the parent disconnects.
 */
import { FaissError } from '../core/errors.js';
import { FaissIndex } from '../core/faiss/index.js';
import { failpoint } from '../core/util/failpoint.js';
import type { IndexFacts, ProbeReply, ProbeRequest } from '../core/verify/probe-protocol.js';

let index: FaissIndex | undefined;
/** The first structural problem of the loaded index: while set, nothing searches it. */
let structureProblem: string | undefined;

function reply(message: ProbeReply): void {
  process.send!(message);
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

function load(file: string, threads: number | undefined): IndexFacts {
  if (threads !== undefined) FaissIndex.setNumThreads(threads);
  const start = performance.now();
  failpoint('probe:read');
  index = FaissIndex.read(file, { mmap: true, readOnly: true });
  const readMs = performance.now() - start;
  const walked = performance.now();
  const structure = { ...index.checkStructure(), ms: 0 };
  structure.ms = performance.now() - walked;
  structureProblem = structure.ok ? undefined : structure.firstProblem;
  const facts: IndexFacts = {
    className: index.className,
    d: index.d,
    ntotal: index.ntotal,
    metric: index.metric,
    isTrained: index.isTrained,
    parameters: index.getParameters(),
    idMap: null,
    consistency: null,
    readMs,
    structure,
  };
  if (facts.className.startsWith('IndexIDMap')) {
    try {
      facts.idMap = index.idMap();
    } catch (err) {
      facts.idMapError = errorText(err);
    }
  } else {
    facts.idMapError = `${facts.className} has no id map`;
  }
  if (facts.className.startsWith('IndexIDMap2<')) {
    try {
      index.checkConsistency();
      facts.consistency = { ok: true };
    } catch (err) {
      facts.consistency = { ok: false, message: errorText(err) };
    }
  }
  return facts;
}

function requireIndex(): FaissIndex {
  if (!index) throw new Error('index probe: no index loaded');
  return index;
}

function handle(request: ProbeRequest): ProbeReply {
  switch (request.op) {
    case 'load':
      return { op: 'loaded', facts: load(request.file, request.threads) };
    case 'parameters': {
      const ix = requireIndex();
      const before = ix.getParameters();
      ix.setParameters(request.spec);
      return { op: 'parameters', before, after: ix.getParameters() };
    }
    case 'search': {
      // A search would follow the bad link or list the walk found, into memory FAISS never allocated.
      if (structureProblem !== undefined) {
        throw new FaissError(`not searching an index that failed index.structure: ${structureProblem}`);
      }
      failpoint('verify:probe-search');
      const start = performance.now();
      const { distances, labels } = requireIndex().search(request.queries, request.k);
      return { op: 'searched', distances, labels, ms: performance.now() - start };
    }
  }
}

if (!process.send) {
  process.stderr.write('index-probe: run by indexctl verify as a child process with an IPC channel\n');
  process.exit(2);
}
try {
  FaissIndex.buildInfo();
} catch (err) {
  reply({ op: 'error', name: err instanceof Error ? err.name : 'Error', message: errorText(err) });
  process.disconnect();
  process.exit(1);
}
reply({ op: 'ready' });
process.on('message', (request: ProbeRequest) => {
  try {
    reply(handle(request));
  } catch (err) {
    reply({ op: 'error', name: err instanceof Error ? err.name : 'Error', message: errorText(err) });
  }
});
// The parent closing the channel is the signal to go: verify is done with the index.
process.on('disconnect', () => process.exit(0));
