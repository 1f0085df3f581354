// OpenMP thread count. omp_set_num_threads only changes the calling thread's setting, so the value
// is kept here and re-applied on each libuv worker thread before FAISS runs there.
#pragma once

namespace indexctl {

void SetThreads(int n);
int GetThreads();
void ApplyThreadsOnWorker();

}  // namespace indexctl
