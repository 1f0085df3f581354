#include "threads.h"

#include <omp.h>

#include <atomic>

namespace indexctl {

namespace {
std::atomic<int> g_threads{0};  // 0: OpenMP's default (OMP_NUM_THREADS or the core count)
}

void SetThreads(int n) {
  g_threads.store(n);
  omp_set_num_threads(n);
}

int GetThreads() {
  int n = g_threads.load();
  return n > 0 ? n : omp_get_max_threads();
}

void ApplyThreadsOnWorker() {
  int n = g_threads.load();
  if (n > 0 && omp_get_max_threads() != n) omp_set_num_threads(n);
}

}  // namespace indexctl
