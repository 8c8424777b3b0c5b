#include "runtime/scheduler/local_scheduler.h"

namespace polyio {
namespace {
thread_local LocalScheduler* current_executor = nullptr;
}  // namespace

LocalScheduler::LocalScheduler(WakeFn wake_fn, void* wake_arg)
    : remote_(wake_fn, wake_arg) {}

LocalScheduler* LocalScheduler::Current() { return current_executor; }

LocalScheduler::Enter::Enter(LocalScheduler* ex)
    : previous_(current_executor),
      previous_counters_(metrics::internal::current_counters) {
  current_executor = ex;
  metrics::internal::current_counters =
      ex != nullptr ? &ex->counters_ : nullptr;
}
LocalScheduler::Enter::~Enter() {
  current_executor = previous_;
  metrics::internal::current_counters = previous_counters_;
}

int LocalScheduler::RunReady(int max_runs) {
  remote_.DrainInto(local_);
  int runs = 0;
  while (runs < max_runs) {
    Runnable* r = local_.Pop();
    if (r == nullptr) break;
    r->run(r);
    ++runs;
  }
  counters_.runs.Add(static_cast<uint64_t>(runs));
  return runs;
}

void LocalScheduler::Close() {
  closed_locally_ = true;
  RunQueue doomed = remote_.Close();
  doomed.Append(local_);
  while (Runnable* r = doomed.Pop()) r->discard(r);
}

}  // namespace polyio
