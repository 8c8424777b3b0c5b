// Runtime: a driver plus the way to run tasks on it — tokio's
// current-thread runtime.
//
//   auto rt = polyio::Runtime::Create();          // StatusOr: the backend
//   if (!rt.ok()) { ... }                          // may be unavailable
//   int v = (*rt)->BlockOn(MyTask());
//
// BlockOn runs the driver on the calling thread until the task completes and
// returns its value (rethrowing its exception). Tasks spawned meanwhile run
// too. Destroying the runtime cancels the operations of unfinished tasks,
// waits for them, then frees the tasks (their JoinHandles report
// CancelledError).
//
// Thread-safety: BlockOn and Spawn on the thread that created the runtime
// (Spawn also inside its tasks); loop().Post from any thread.
#ifndef POLYIO_RUNTIME_RUNTIME_H_
#define POLYIO_RUNTIME_RUNTIME_H_

#include <memory>
#include <string_view>
#include <utility>

#include "absl/status/statusor.h"
#include "backends/backend.h"
#include "runtime/driver.h"
#include "runtime/event_loop.h"
#include "runtime/join_handle.h"
#include "runtime/task.h"

namespace polyio {

struct RuntimeOptions {
  BackendOptions backend;
};

class Runtime {
 public:
  static absl::StatusOr<std::unique_ptr<Runtime>> Create(
      const RuntimeOptions& options = {});
  Runtime(const Runtime&) = delete;
  Runtime& operator=(const Runtime&) = delete;
  // Shuts the driver down first: discarded callbacks still reach loop_.
  ~Runtime() { driver_.reset(); }

  template <class T>
  T BlockOn(Task<T> task) {
    Driver::Enter scope(driver_.get());
    JoinHandle<T> handle = SpawnOn(*driver_, std::move(task));
    while (!handle.finished()) driver_->Turn(/*may_block=*/true);
    return handle.task()->task().TakeResult();
  }

  template <class T>
  JoinHandle<T> Spawn(Task<T> task) {
    return SpawnOn(*driver_, std::move(task));
  }

  Driver& driver() { return *driver_; }
  EventLoop& loop() { return loop_; }
  // "epoll", "poll", "io_uring", "kqueue".
  std::string_view backend_name() const { return driver_->backend().Name(); }

 private:
  explicit Runtime(std::unique_ptr<Driver> driver);

  std::unique_ptr<Driver> driver_;
  EventLoop loop_;
};

}  // namespace polyio

#endif  // POLYIO_RUNTIME_RUNTIME_H_
