"""The Python FAISS peer of an indexctl build: the same index from the same vectors, already in memory.

usage: build_peer.py VECTORS_F32 IDS_I64 D FACTORY OUT_INDEX [CHUNKS_PARQUET] -> one JSON line
Timed: IndexIDMap2(index_factory) + train (same sample size rule) + add_with_ids + write_index
(`seconds`; `cpu_s`: the process's user + system CPU seconds over the same span, all threads).
With CHUNKS_PARQUET, also the floor of writing what a version holds besides the index
(`seconds_with_files`): a copy of the chunks file next to OUT_INDEX, the (row, id) pairs as raw
int64, and an fsync of the three files, as indexctl's build does (it also writes a catalog).
"""
import json
import os
import shutil
import sys
import time

import faiss
import numpy as np
from peak_rss import peak_rss_mb

vectors_file, ids_file, d, factory, out = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4], sys.argv[5]
chunks = sys.argv[6] if len(sys.argv) > 6 else None
x = np.fromfile(vectors_file, dtype="float32").reshape(-1, d)
ids = np.fromfile(ids_file, dtype="int64")
t = time.perf_counter()
cpu = time.process_time()
index = faiss.IndexIDMap2(faiss.index_factory(d, factory))
if not index.is_trained:
    index.train(x[: min(len(x), 64 * 1024)])
index.add_with_ids(x, ids)
t_write = time.perf_counter()
faiss.write_index(index, out)
seconds = time.perf_counter() - t
result = {
    "impl": "python", "factory": factory, "seconds": seconds, "write_index_s": seconds - (t_write - t),
    "cpu_s": time.process_time() - cpu,
}
if chunks:
    copy, pairs = out + ".chunks.parquet", out + ".idmap.raw"
    shutil.copyfile(chunks, copy)
    np.stack([np.arange(len(ids), dtype="int64"), ids], axis=1).tofile(pairs)
    for f in (out, copy, pairs):
        fd = os.open(f, os.O_RDONLY)
        os.fsync(fd)
        os.close(fd)
    result["seconds_with_files"] = time.perf_counter() - t
    os.remove(copy)
    os.remove(pairs)
result["maxrss_mb"] = peak_rss_mb()
print(json.dumps(result))
