"""The Python FAISS peer of bench/faiss-ops.ts: the same FAISS calls on the same vectors.

usage: faiss_ops.py OP DATA_FILE N D  -> prints one JSON line {op, seconds, cpu_s, maxrss_mb, ...}
"""
import json
import resource
import sys
import time

import faiss
import numpy as np
from peak_rss import peak_rss_mb

op, data_file, n, d = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
x = np.fromfile(data_file, dtype="float32", count=n * d).reshape(n, d)
ids = np.arange(n, dtype="int64") * 7 + 1
q = x[:1000].copy()
out = {"op": op, "impl": "python", "n": n}


def cpu():
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def timed(fn):
    t = time.perf_counter()
    fn()
    return time.perf_counter() - t


def measured(fn):
    """The measured part of an op: wall seconds and CPU seconds of all threads."""
    c, t = cpu(), time.perf_counter()
    fn()
    out["seconds"] = time.perf_counter() - t
    out["cpu_s"] = cpu() - c


def idmap(factory):
    return faiss.IndexIDMap2(faiss.index_factory(d, factory))


def set_params(index, spec):
    faiss.ParameterSpace().set_index_parameters(index, spec)


if op == "flat_add":
    index = idmap("Flat")
    measured(lambda: index.add_with_ids(x, ids))
elif op == "flat_search":
    index = idmap("Flat")
    index.add_with_ids(x, ids)
    measured(lambda: index.search(q, 10))
elif op == "hnsw_add":
    index = idmap("HNSW32")
    measured(lambda: index.add_with_ids(x, ids))
    set_params(index, "efSearch=64")
    out["search_s"] = timed(lambda: index.search(q, 10))
elif op == "ivf_train_add":
    index = idmap("IVF1024,Flat")
    measured(lambda: (index.train(x[:50_000]), index.add_with_ids(x, ids)))
    set_params(index, "nprobe=16")
    out["search_s"] = timed(lambda: index.search(q, 10))
elif op == "ivfpq_fs_search":
    index = idmap("IVF256,PQ48x4fs")
    index.train(x[:20_000])
    index.add_with_ids(x, ids)
    set_params(index, "nprobe=16")
    index.search(q[:10], 10)
    measured(lambda: index.search(q, 10))
else:
    raise SystemExit(f"unknown op {op}")

out["maxrss_mb"] = peak_rss_mb()
print(json.dumps(out))
