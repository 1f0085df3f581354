/** The pure parts of tune: recall with ties, self exclusion, percentiles, frontier, pruning, grids. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { UsageError } from '../src/core/errors.js';
import {
  canPrune,
  choosePoint,
  estimateCost,
  paretoFrontier,
  type SweepPoint,
} from '../src/core/tune/frontier.js';
import { percentile } from '../src/core/tune/measure.js';
import { combinations, parseParamsOption, specOf, valuesOf } from '../src/core/tune/param-grid.js';
import { dropSelf, exactDistance, recallAtK, withinKth } from '../src/core/tune/recall.js';
import { parameterSpec, tuningParameters } from '../src/core/search/tuning-params.js';

const ids = (...xs: number[]) => BigInt64Array.from(xs.map(BigInt));

describe('recallAtK', () => {
  // One query at the origin in 1-d; stored points by id: distance = id^2 (squared L2).
  const distanceTo = (_q: number, id: bigint) => Number(id) ** 2;

  it('is the set intersection over k for a known answer', () => {
    const r = recallAtK({
      k: 4,
      metric: 'l2',
      epsilon: 0,
      truthIds: ids(1, 2, 3, 4),
      truthKth: new Float64Array([16]),
      answerIds: ids(2, 1, 9, 4),
      distanceTo,
    });
    assert.equal(r.recall, 0.75);
    assert.equal(r.tieHits, 0);
  });

  it('averages per-query recall and counts -1 as a miss', () => {
    const r = recallAtK({
      k: 2,
      metric: 'l2',
      epsilon: 0,
      truthIds: ids(1, 2, 1, 2),
      truthKth: new Float64Array([4, 4]),
      answerIds: ids(1, 2, 1, -1),
      distanceTo,
    });
    assert.equal(r.recall, 0.75);
    assert.deepEqual([...r.perQuery], [1, 0.5]);
  });

  it('counts a returned id that ties the k-th true distance as a hit', () => {
    // ids 4 and 40 are both at distance 16 from the query; the truth picked 4, the answer 40.
    const tied = (_q: number, id: bigint) => (id === 40n ? 16 : Number(id) ** 2);
    const input = {
      k: 4,
      metric: 'l2' as const,
      truthIds: ids(1, 2, 3, 4),
      truthKth: new Float64Array([16]),
      answerIds: ids(1, 2, 3, 40),
      distanceTo: tied,
    };
    const r = recallAtK({ ...input, epsilon: 0 });
    assert.equal(r.recall, 1);
    assert.equal(r.tieHits, 1);
    // A distance just past the k-th is a miss without tolerance, a hit within it.
    const near = (_q: number, id: bigint) => (id === 40n ? 16 * (1 + 1e-7) : Number(id) ** 2);
    assert.equal(recallAtK({ ...input, distanceTo: near, epsilon: 0 }).recall, 0.75);
    assert.equal(recallAtK({ ...input, distanceTo: near, epsilon: 1e-6 }).recall, 1);
  });

  it('ties under inner product mean a score at least the k-th', () => {
    assert.equal(withinKth('ip', 0.5, 0.5, 0), true);
    assert.equal(withinKth('ip', 0.49, 0.5, 0), false);
    assert.equal(withinKth('l2', 0.49, 0.5, 0), true);
    assert.equal(withinKth('l2', 0.51, 0.5, 0), false);
  });

  it('computes exact distances in float64', () => {
    const q = new Float32Array([1, 2, 3, 0, 0, 0]);
    const v = new Float32Array([1, 1, 1]);
    assert.equal(exactDistance('l2', q, 0, v), 0 + 1 + 4);
    assert.equal(exactDistance('ip', q, 0, v), 6);
    assert.equal(exactDistance('l2', q, 1, v), 3);
  });

  it('refuses mismatched shapes', () => {
    assert.throws(
      () =>
        recallAtK({
          k: 2,
          metric: 'l2',
          epsilon: 0,
          truthIds: ids(1, 2),
          truthKth: new Float64Array([1, 1]),
          answerIds: ids(1, 2),
          distanceTo,
        }),
      RangeError,
    );
  });
});

describe('dropSelf', () => {
  it("drops each query's own id wherever it ranks and keeps k of the rest", () => {
    const labels = ids(5, 1, 2, /* q1 */ 3, 4, 9);
    assert.deepEqual([...dropSelf(labels, 3, 2, ids(5, 9))], [1n, 2n, 3n, 4n]);
  });
  it('truncates when the own id is absent, and keeps -1', () => {
    assert.deepEqual([...dropSelf(ids(1, 2, -1), 3, 2, ids(7))], [1n, 2n]);
    assert.deepEqual([...dropSelf(ids(7, 1, -1), 3, 2, ids(7))], [1n, -1n]);
  });
  it('without self ids keeps the first k columns', () => {
    assert.deepEqual([...dropSelf(ids(1, 2, 3, 4), 2, 2, undefined)], [1n, 2n, 3n, 4n]);
  });
});

describe('percentile', () => {
  it("matches numpy's linear interpolation", () => {
    const sorted = new Float64Array([1, 2, 3, 4]);
    assert.equal(percentile(sorted, 50), 2.5);
    assert.equal(percentile(sorted, 0), 1);
    assert.equal(percentile(sorted, 100), 4);
    assert.ok(Math.abs(percentile(sorted, 95) - 3.85) < 1e-12);
    assert.equal(percentile(new Float64Array([7]), 99), 7);
  });
});

function point(positions: number[], recall: number, qps: number, cost = 1): SweepPoint {
  return { positions, values: { nprobe: 2 ** positions[0]! }, recall, qps, latencyP50: 1000 / qps, cost };
}

describe('frontier', () => {
  it('marks points no other point beats in both recall and QPS', () => {
    const pts = [point([0], 0.5, 1000), point([1], 0.7, 800), point([2], 0.6, 500), point([3], 0.9, 100)];
    assert.deepEqual([...paretoFrontier(pts)].sort(), [0, 1, 3]);
  });
  it('chooses the fastest point meeting the target, or none', () => {
    const pts = [point([0], 0.5, 1000), point([1], 0.96, 800), point([2], 0.99, 500)];
    assert.equal(choosePoint(pts, 0.95), pts[1]);
    assert.equal(choosePoint(pts, 0.995), undefined);
    assert.equal(choosePoint(pts, 0.5), pts[0]);
  });
  it('prunes a setting above one that already reached recall 1 faster', () => {
    const measured = [point([0, 0], 0.8, 1000), point([1, 0], 1, 500)];
    assert.equal(canPrune([2, 0], measured), true);
    assert.equal(canPrune([1, 1], measured), true);
    assert.equal(canPrune([0, 1], measured), false);
    assert.equal(canPrune([0, 0], []), false);
  });
  it('estimates cost by scaling the measured setting below', () => {
    const measured = [point([0], 0.5, 1000, 2), point([1], 0.7, 500, 4)];
    assert.equal(estimateCost({ nprobe: 8 }, [3], measured), 4 * (8 / 2));
    assert.equal(estimateCost({ nprobe: 1 }, [0], []), 0);
  });
  it('estimates from the nearest setting, not a first one slowed by warm-up', () => {
    // nprobe=1 took 5 s (page faults of a cold mmapped index), nprobe=4 then took 1 s: nprobe=16 is
    // about 4 s, not 80 s (which would cut it from a 60 s budget).
    const measured = [point([0], 0.2, 10000, 5), point([2], 0.4, 3000, 1)];
    assert.equal(estimateCost({ nprobe: 16 }, [4], measured), 1 * (16 / 4));
  });
});

describe('parameter grid', () => {
  it('parses --params and sorts values', () => {
    assert.deepEqual(parseParamsOption('nprobe=16,1,4; efSearch=64'), [
      { name: 'nprobe', values: [1, 4, 16] },
      { name: 'efSearch', values: [64] },
    ]);
  });
  for (const bad of [
    '',
    'nprobe',
    'nprobe=',
    'nprobe=a',
    'nprobe=0',
    'nprobe=-1',
    'n-probe=1',
    'nprobe=1;nprobe=2',
  ]) {
    it(`refuses --params ${JSON.stringify(bad)}`, () => {
      assert.throws(() => parseParamsOption(bad), UsageError);
    });
  }
  it('orders combinations cheapest first', () => {
    const ranges = [
      { name: 'a', values: [1, 2, 4] },
      { name: 'b', values: [10, 20] },
    ];
    const combos = combinations(ranges);
    assert.equal(combos.length, 6);
    assert.deepEqual(combos[0], [0, 0]);
    assert.deepEqual(combos.at(-1), [2, 1]);
    assert.equal(specOf(valuesOf(ranges, [1, 1])), 'a=2,b=20');
    assert.deepEqual(combinations([]), [[]]);
  });
});

describe('tuningParameters', () => {
  it('turns the named fields and params into a ParameterSpace string, named fields winning', () => {
    const tuning = {
      family: 'ivf_pq_refine' as const,
      k: 10,
      nprobe: 16,
      hnsw_efSearch: null,
      refine_k_factor: 4,
      params: 'nprobe=8,quantizer_efSearch=32',
    };
    assert.equal(parameterSpec(tuningParameters(tuning)), 'nprobe=16,k_factor_rf=4,quantizer_efSearch=32');
    assert.equal(parameterSpec(tuningParameters(null)), '');
    assert.equal(
      parameterSpec(tuningParameters({ family: 'hnsw', k: 10, hnsw_efSearch: 64 })),
      'efSearch=64',
    );
  });
});
