"""The Python FAISS peer of bench/tune.ts: the measurement `indexctl tune` makes, done by hand in
Python on the same index file, the same queries and the same parameters.

usage: tune_peer.py INDEX VECTORS_F32 IDS_I64 D ROWS_U32 METRIC K RUNS THREADS SPEC[;SPEC...] NLAT SEARCH_SPEC
  -> one JSON line {truth_s, points: [{params, recall, qps, p50, p95, p99}], latency_k10: {...}}

Queries are the stored vectors at ROWS (the rows indexctl sampled); each query's own id is dropped
from truth and answer (search k + 1). recall@k counts distance ties like indexctl (float64 exact
distances, relative tolerance 1e-6). QPS: best of RUNS batch searches at THREADS; latency: best of
RUNS passes of one query per call on one thread (the pass with the lowest total), numpy percentiles.
latency_k10: the same latency at k=10 with SEARCH_SPEC on the first NLAT queries (the peer of
openIndex().search in bench/tune.ts).
"""
import json
import sys
import time

import faiss
import numpy as np

(index_file, vectors_file, ids_file, d, rows_file, metric, k, runs, threads, specs, nlat, search_spec) = sys.argv[1:13]
d, k, runs, threads, nlat = int(d), int(k), int(runs), int(threads), int(nlat)
EPS = 1e-6

x = np.fromfile(vectors_file, dtype="float32").reshape(-1, d)
ids = np.fromfile(ids_file, dtype="int64")
rows = np.fromfile(rows_file, dtype="uint32").astype("int64")
q = np.ascontiguousarray(x[rows])
self_ids = ids[rows]
order = np.argsort(ids)
faiss.omp_set_num_threads(threads)


def drop_self(labels):
    out = np.full((len(labels), k), -1, dtype="int64")
    for i, row in enumerate(labels):
        kept = [v for v in row if v != self_ids[i]][:k]
        out[i, : len(kept)] = kept
    return out


def exact(i, ext_id):
    v = x[order[np.searchsorted(ids, ext_id, sorter=order)]].astype("float64")
    qq = q[i].astype("float64")
    return float(((qq - v) ** 2).sum()) if metric == "l2" else float(qq @ v)


t = time.perf_counter()
flat = faiss.IndexFlatL2(d) if metric == "l2" else faiss.IndexFlatIP(d)
flat.add(x)
_, truth_rows = flat.search(q, k + 1)
truth = drop_self(np.where(truth_rows >= 0, ids[truth_rows], -1))
truth_s = time.perf_counter() - t
del flat
kth = [exact(i, row[row >= 0][-1]) for i, row in enumerate(truth)]


def recall(answer):
    total = 0.0
    for i in range(len(q)):
        want = set(int(v) for v in truth[i] if v >= 0)
        hits = 0
        tol = EPS * max(1.0, abs(kth[i]))
        for v in answer[i]:
            v = int(v)
            if v < 0:
                continue
            if v in want:
                hits += 1
            else:
                dist = exact(i, v)
                if (dist <= kth[i] + tol) if metric == "l2" else (dist >= kth[i] - tol):
                    hits += 1
        total += min(hits, len(want)) / len(want)
    return total / len(q)


def latencies(index, kk, n=None):
    n = len(q) if n is None else min(n, len(q))
    faiss.omp_set_num_threads(1)
    best, best_total = None, float("inf")
    for _ in range(runs):
        times = np.empty(n)
        for i in range(n):
            one = q[i : i + 1]
            t = time.perf_counter()
            index.search(one, kk)
            times[i] = (time.perf_counter() - t) * 1000
        if times.sum() < best_total:
            best, best_total = times, times.sum()
    faiss.omp_set_num_threads(threads)
    return {"p50": float(np.percentile(best, 50)), "p95": float(np.percentile(best, 95)), "p99": float(np.percentile(best, 99))}


index = faiss.read_index(index_file, faiss.IO_FLAG_MMAP | faiss.IO_FLAG_READ_ONLY)
points = []
for spec in specs.split(";"):
    faiss.ParameterSpace().set_index_parameters(index, spec)
    _, labels = index.search(q, k + 1)
    r = recall(drop_self(labels))
    best = float("inf")
    for _ in range(runs):
        t = time.perf_counter()
        index.search(q, k + 1)
        best = min(best, time.perf_counter() - t)
    points.append({"params": spec, "recall": r, "qps": len(q) / best, **latencies(index, k + 1)})

# Bare single-query search at k=10 on the first NLAT queries, the peer of openIndex().search latency.
faiss.ParameterSpace().set_index_parameters(index, search_spec)
print(json.dumps({"truth_s": truth_s, "points": points, "latency_k10": latencies(index, 10, nlat)}))
