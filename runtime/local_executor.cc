#include "runtime/local_executor.h"

namespace polyio {
namespace {
thread_local LocalExecutor* current_executor = nullptr;
}  // namespace

LocalExecutor::LocalExecutor(WakeFn wake_fn, void* wake_arg)
    : wake_fn_(wake_fn), wake_arg_(wake_arg) {}

LocalExecutor* LocalExecutor::Current() { return current_executor; }

LocalExecutor::Enter::Enter(LocalExecutor* ex) : previous_(current_executor) {
  current_executor = ex;
}
LocalExecutor::Enter::~Enter() { current_executor = previous_; }

void LocalExecutor::ScheduleRemote(Runnable* r) {
  MutexLock lock(&mu_);
  if (closed_) {
    r->discard(r);
    return;
  }
  remote_.Push(r);
  remote_pending_.store(true, std::memory_order_release);
  // Under the lock, so that Close() cannot free the backend in between.
  wake_fn_(wake_arg_);
}

void LocalExecutor::DrainRemote() {
  if (!remote_pending_.load(std::memory_order_acquire)) return;
  MutexLock lock(&mu_);
  remote_pending_.store(false, std::memory_order_relaxed);
  local_.Append(remote_);
}

int LocalExecutor::RunReady(int max_runs) {
  DrainRemote();
  int runs = 0;
  while (runs < max_runs) {
    Runnable* r = local_.Pop();
    if (r == nullptr) break;
    r->run(r);
    ++runs;
  }
  return runs;
}

void LocalExecutor::Close() {
  closed_locally_ = true;
  RunQueue doomed;
  {
    MutexLock lock(&mu_);
    closed_ = true;
    remote_pending_.store(false, std::memory_order_relaxed);
    doomed.Append(remote_);
  }
  doomed.Append(local_);
  while (Runnable* r = doomed.Pop()) r->discard(r);
}

}  // namespace polyio
