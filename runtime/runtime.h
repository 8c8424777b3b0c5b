// Runtime: the way to run tasks — tokio's two runtimes under one type.
//
//   auto rt = polyio::Runtime::Create();          // StatusOr: the backend
//   if (!rt.ok()) { ... }                          // may be unavailable
//   int v = (*rt)->BlockOn(MyTask());
//
// Flavors (RuntimeOptions::flavor); a program switches by changing only the
// options:
//   kCurrentThread  one driver, run by the thread that calls BlockOn. Tasks
//                   never run in parallel.
//   kMultiThread    `worker_threads` workers (default: one per core), each
//                   with its own driver, stealing work from each other
//                   (multi_thread_scheduler.h). BlockOn runs the task on the
//                   workers and parks the calling thread until it is done.
//
// BlockOn returns the task's value (rethrowing its exception). Tasks spawned
// meanwhile run too. Destroying the runtime cancels the operations of
// unfinished tasks, waits for them, then frees the tasks (their JoinHandles
// report CancelledError).
//
// Thread-safety: kCurrentThread: BlockOn on one thread at a time, Spawn on
// that thread or inside its tasks. kMultiThread: BlockOn and Spawn from any
// thread. loop().Post from any thread. Destroy the runtime from outside its
// tasks.
#ifndef POLYIO_RUNTIME_RUNTIME_H_
#define POLYIO_RUNTIME_RUNTIME_H_

#include <chrono>
#include <cstdint>
#include <memory>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "backends/backend.h"
#include "platform/source_location.h"
#include "runtime/diagnostics/stall_detector.h"
#include "runtime/diagnostics/task_dump.h"
#include "runtime/driver/driver.h"
#include "runtime/driver/spawn.h"
#include "runtime/event_loop.h"
#include "runtime/metrics/metrics.h"
#include "runtime/multi_thread/multi_thread_scheduler.h"
#include "runtime/scheduler/thread_parker.h"
#include "runtime/sync/cancellation_token.h"
#include "runtime/task/join_handle.h"
#include "runtime/task/task.h"

namespace polyio {

enum class RuntimeFlavor { kCurrentThread, kMultiThread };

// What Runtime::Shutdown did.
struct ShutdownReport {
  int64_t finished = 0;    // ended by themselves before the deadline
  int64_t cancelled = 0;   // cancelled at the deadline, and ended since
  int64_t unfinished = 0;  // still running after the grace period: freed
                           // with the Runtime, once their operations are done
};

struct RuntimeOptions {
  BackendOptions backend;
  RuntimeFlavor flavor = RuntimeFlavor::kCurrentThread;
  // kMultiThread: workers; 0 means one per core.
  int worker_threads = 0;
  // A watchdog that reports a task poll or a driver turn longer than a
  // threshold, with the task's spawn location and the thread's stack
  // (runtime/diagnostics/stall_detector.h, docs/observing.md). Off by
  // default; `stall_detector.enabled = true` turns it on.
  StallDetectorOptions stall_detector;
};

class Runtime {
 public:
  static absl::StatusOr<std::unique_ptr<Runtime>> Create(
      const RuntimeOptions& options = {});
  Runtime(const Runtime&) = delete;
  Runtime& operator=(const Runtime&) = delete;
  ~Runtime();

  // Not from inside a task, a callback, or any thread that runs a driver:
  // it would block that driver's thread (on the multi-thread runtime the
  // task it waits for may be queued behind it). That stops the program
  // with a message, as tokio's "Cannot start a runtime from within a
  // runtime" does; co_await the task instead.
  template <class T>
  T BlockOn(Task<T> task, SourceLocation where = SourceLocation::Current()) {
    if (Driver::Current() != nullptr) DieNestedBlockOn(where);
    if (pool_ == nullptr) {
      Driver::Enter scope(driver_.get());
      JoinHandle<T> handle =
          SpawnOn(driver_->local_scheduler(), std::move(task), where);
      while (!handle.finished()) driver_->Turn(/*may_block=*/true);
      if (handle.task()->abandoned()) DieBlockOnAfterShutdown(where);
      return handle.task()->TakeResult();
    }
    JoinHandle<T> handle = SpawnOn(*pool_, std::move(task), where);
    ThreadParker parker;
    Waker waker = parker.waker();
    while (!handle.task()->PollJoin(waker)) parker.Park();
    if (handle.task()->abandoned()) DieBlockOnAfterShutdown(where);
    return handle.task()->TakeResult();
  }

  // Graceful shutdown (tokio's shutdown_timeout, with asyncio's "cancel what
  // is left"): refuses new spawns (their JoinHandles report CancelledError),
  // cancels root_token(), lets tasks finish for up to `timeout`, then aborts
  // every task still running and gives them up to `grace` to end. Tasks that
  // ignore cancellation past that are freed when the Runtime is destroyed,
  // after their operations complete (nothing is freed under the kernel).
  // Call it from outside the runtime's tasks, as BlockOn, once; afterwards
  // the runtime runs no new work (BlockOn stops the program with a message).
  ShutdownReport Shutdown(Duration timeout,
                          Duration grace = std::chrono::seconds(1));

  // Cancelled by Shutdown: run tasks under it (sync::WithCancellation), or
  // await root_token().Cancelled() to start draining. Thread-safe.
  const sync::CancellationToken& root_token() const { return root_token_; }

  template <class T>
  JoinHandle<T> Spawn(Task<T> task,
                      SourceLocation where = SourceLocation::Current()) {
    if (pool_ != nullptr) return SpawnOn(*pool_, std::move(task), where);
    return SpawnOn(driver_->local_scheduler(), std::move(task), where);
  }

  // A snapshot of the runtime's counters, per worker and in total
  // (runtime/metrics/metrics.h; docs/observing.md). Cheap: it reads
  // counters that are always kept, stopping nobody. Any thread, also from
  // inside a task.
  RuntimeMetrics Metrics();

  // Every live task: where it was spawned, whether it runs, is queued or
  // waits, and on what (runtime/diagnostics/task_dump.h). For a hung
  // server: print DumpTasks().ToString(). Any thread, also from inside a
  // task; on the current-thread runtime called from another thread it is
  // answered at the driver's next turn (through its mailbox).
  TaskDump DumpTasks();

  RuntimeFlavor flavor() const {
    return pool_ ? RuntimeFlavor::kMultiThread : RuntimeFlavor::kCurrentThread;
  }
  int worker_threads() const { return pool_ ? pool_->worker_count() : 1; }

  // The driver of the callback loop: the runtime's driver, or worker 0's.
  Driver& driver() { return pool_ ? pool_->driver(0) : *driver_; }
  // The callback layer on driver(): on kMultiThread its callbacks run on
  // worker 0 (Post from anywhere; timers and watches from worker 0's tasks).
  EventLoop& loop() { return *loop_; }
  // "epoll", "poll", "io_uring", "kqueue".
  std::string_view backend_name() { return driver().backend().Name(); }

 private:
  Runtime() = default;
  [[noreturn]] static void DieNestedBlockOn(SourceLocation where);
  [[noreturn]] static void DieBlockOnAfterShutdown(SourceLocation where);
  // The schedulers that tasks of this runtime are spawned on.
  std::vector<TaskScheduler*> Schedulers();
  int64_t Unfinished();
  // Runs (kCurrentThread) or waits for (kMultiThread) the tasks until none
  // is left or `deadline` passes.
  void RunUntilIdleOr(Instant deadline);
  void AbortAll();

  std::unique_ptr<Driver> driver_;        // kCurrentThread
  MultiThreadScheduler* pool_ = nullptr;  // kMultiThread (reference)
  std::unique_ptr<EventLoop> loop_;
  sync::CancellationToken root_token_;
  // Watches the drivers above; stopped first.
  std::unique_ptr<diagnostics::StallDetector> stall_detector_;
};

}  // namespace polyio

#endif  // POLYIO_RUNTIME_RUNTIME_H_
