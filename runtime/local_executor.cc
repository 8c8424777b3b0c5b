#include "runtime/local_executor.h"

namespace polyio {
namespace {
thread_local LocalExecutor* current_executor = nullptr;
}  // namespace

LocalExecutor::LocalExecutor(WakeFn wake_fn, void* wake_arg)
    : remote_(wake_fn, wake_arg) {}

LocalExecutor* LocalExecutor::Current() { return current_executor; }

LocalExecutor::Enter::Enter(LocalExecutor* ex) : previous_(current_executor) {
  current_executor = ex;
}
LocalExecutor::Enter::~Enter() { current_executor = previous_; }

int LocalExecutor::RunReady(int max_runs) {
  remote_.DrainInto(local_);
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
  RunQueue doomed = remote_.Close();
  doomed.Append(local_);
  while (Runnable* r = doomed.Pop()) r->discard(r);
}

}  // namespace polyio
