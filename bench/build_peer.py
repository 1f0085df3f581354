"""The Python FAISS peer of an indexctl build: the same index from the same vectors, already in memory.

usage: build_peer.py VECTORS_F32 IDS_I64 D FACTORY OUT_INDEX -> one JSON line
Timed: IndexIDMap2(index_factory) + train (same sample size rule) + add_with_ids + write_index.
"""
import json
import sys
import time

import faiss
import numpy as np
from peak_rss import peak_rss_mb

vectors_file, ids_file, d, factory, out = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4], sys.argv[5]
x = np.fromfile(vectors_file, dtype="float32").reshape(-1, d)
ids = np.fromfile(ids_file, dtype="int64")
t = time.perf_counter()
index = faiss.IndexIDMap2(faiss.index_factory(d, factory))
if not index.is_trained:
    index.train(x[: min(len(x), 64 * 1024)])
index.add_with_ids(x, ids)
t_write = time.perf_counter()
faiss.write_index(index, out)
seconds = time.perf_counter() - t
print(json.dumps({
    "impl": "python", "factory": factory, "seconds": seconds, "write_index_s": seconds - (t_write - t),
    "maxrss_mb": peak_rss_mb(),
}))
