"""The Python FAISS peer of bench/faiss-ops.ts: the same FAISS calls on the same vectors.

usage: faiss_ops.py OP DATA_FILE N D  -> prints one JSON line {op, seconds, maxrss_mb, ...}
"""
import json
import resource
import sys
import time

import faiss
import numpy as np

op, data_file, n, d = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
x = np.fromfile(data_file, dtype="float32", count=n * d).reshape(n, d)
ids = np.arange(n, dtype="int64") * 7 + 1
q = x[:1000].copy()
out = {"op": op, "impl": "python", "n": n}


def timed(fn):
    t = time.perf_counter()
    fn()
    return time.perf_counter() - t


def ivf(factory, train_n):
    index = faiss.IndexIDMap2(faiss.index_factory(d, factory))
    out["train_s"] = timed(lambda: index.train(x[:train_n]))
    return index


if op == "flat_add":
    index = faiss.IndexIDMap2(faiss.IndexFlatL2(d))
    out["seconds"] = timed(lambda: index.add_with_ids(x, ids))
elif op == "flat_search":
    index = faiss.IndexIDMap2(faiss.IndexFlatL2(d))
    index.add_with_ids(x, ids)
    out["seconds"] = timed(lambda: index.search(q, 10))
elif op == "hnsw_add":
    index = faiss.IndexIDMap2(faiss.index_factory(d, "HNSW32"))
    out["seconds"] = timed(lambda: index.add_with_ids(x, ids))
    faiss.ParameterSpace().set_index_parameters(index, "efSearch=64")
    out["search_s"] = timed(lambda: index.search(q, 10))
elif op == "ivf_train_add":
    index = ivf("IVF1024,Flat", 50_000)
    out["add_s"] = timed(lambda: index.add_with_ids(x, ids))
    out["seconds"] = out["train_s"] + out["add_s"]
    faiss.ParameterSpace().set_index_parameters(index, "nprobe=16")
    out["search_s"] = timed(lambda: index.search(q, 10))
elif op == "ivfpq_fs_search":
    index = ivf("IVF256,PQ48x4fs", 20_000)
    index.add_with_ids(x, ids)
    faiss.ParameterSpace().set_index_parameters(index, "nprobe=16")
    index.search(q[:10], 10)
    out["seconds"] = timed(lambda: index.search(q, 10))
else:
    raise SystemExit(f"unknown op {op}")

out["maxrss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps(out))
