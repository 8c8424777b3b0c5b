#include "runtime/runtime.h"

#include <cstdio>
#include <cstdlib>
#include <thread>

namespace polyio {

absl::StatusOr<std::unique_ptr<Runtime>> Runtime::Create(
    const RuntimeOptions& options) {
  std::unique_ptr<Runtime> rt(new Runtime());
  if (options.flavor == RuntimeFlavor::kMultiThread) {
    int workers = options.worker_threads;
    if (workers <= 0) {
      workers = static_cast<int>(std::thread::hardware_concurrency());
    }
    absl::StatusOr<MultiThreadScheduler*> pool =
        MultiThreadScheduler::Create(workers, options.backend);
    if (!pool.ok()) return pool.status();
    rt->pool_ = *pool;
  } else {
    absl::StatusOr<std::unique_ptr<Driver>> driver =
        Driver::Create(options.backend);
    if (!driver.ok()) return driver.status();
    rt->driver_ = std::move(*driver);
  }
  rt->loop_ = std::make_unique<EventLoop>(&rt->driver());
  return rt;
}

void Runtime::DieNestedBlockOn(SourceLocation where) {
  std::fprintf(stderr,
               "polyio: Runtime::BlockOn called from inside a task (or a "
               "callback, or another thread that runs a driver), at %s:%u: "
               "it would block the thread that must run the task; co_await "
               "the task instead\n",
               where.file_name(), static_cast<unsigned>(where.line()));
  std::abort();
}

Runtime::~Runtime() {
  // The drivers go first: callbacks they discard still reach loop_.
  if (pool_ != nullptr) {
    pool_->Shutdown();
    pool_->Unref();
  }
  driver_.reset();
}

}  // namespace polyio
