{
  "targets": [
    {
      "target_name": "indexctl_faiss",
      "sources": [
        "native/addon.cc",
        "native/args.cc",
        "native/errors.cc",
        "native/hashed_io.cc",
        "native/index.cc",
        "native/io.cc",
        "native/kernels.cc",
        "native/merge.cc",
        "native/params.cc",
        "native/remove.cc",
        "native/reserve.cc",
        "native/structure.cc",
        "native/structure_codes.cc",
        "native/structure_hnsw.cc",
        "native/structure_ivf.cc",
        "native/threads.cc",
        "native/workers.cc"
      ],
      "dependencies": ["<!(node -p \"require('node-addon-api').targets\"):node_addon_api_except"],
      "include_dirs": ["native/generated"],
      "cflags_cc": ["-std=c++17", "-O2", "-fopenmp", "<!@(node scripts/faiss-config.js cflags)"],
      "cflags_cc!": ["-fno-rtti"],
      "ldflags": ["-fopenmp"],
      "libraries": ["<!@(node scripts/faiss-config.js libs)"],
      "defines": ["NAPI_VERSION=8"]
    },
    {
      "target_name": "indexctl_hash",
      "sources": ["native/hash_addon.cc", "native/exit_guard.cc"],
      "dependencies": ["<!(node -p \"require('node-addon-api').targets\"):node_addon_api_except"],
      "cflags_cc": ["-std=c++17", "-O2", "-pthread"],
      "ldflags": ["-pthread"],
      "defines": ["NAPI_VERSION=8"]
    }
  ]
}
