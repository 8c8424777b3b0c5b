// Driver: one thread's engine — a backend, a timer wheel and the run queues.
//
// A turn (Turn):
//   1. fire due timers;
//   2. wait in the backend — without blocking if work is ready, else until
//      the next timer — and deliver completions, which wake tasks;
//   3. fire the timers that came due while waiting;
//   4. run ready work (tasks to poll, posted callbacks), at most
//      kMaxRunsPerTurn of them, so that I/O and timers are never starved.
//
// The driver also keeps the list of live spawned tasks, so that destroying
// it (shutdown) can free them safely: it cancels every operation in flight
// and waits for each completion before any coroutine frame is destroyed,
// since a frame may hold the buffer an operation writes into.
//
// Thread-hostile: one thread runs a driver. Other threads reach it only
// through Wakers and EventLoop::Post (the executor's remote queue).
#ifndef POLYIO_RUNTIME_DRIVER_H_
#define POLYIO_RUNTIME_DRIVER_H_

#include <memory>

#include "absl/status/statusor.h"
#include "backends/selected.h"
#include "runtime/local_executor.h"
#include "runtime/timer_wheel.h"

namespace polyio {

namespace internal {
class TaskHeader;
}  // namespace internal

class Driver {
 public:
  // Runnables per turn before timers and I/O are looked at again. With the
  // per-task budget (context.h) this bounds how long a busy thread keeps a
  // due timer or a ready socket waiting: 64 polls of at most 128 operations.
  static constexpr int kMaxRunsPerTurn = 64;

  static absl::StatusOr<std::unique_ptr<Driver>> Create(
      const BackendOptions& options = {});
  ~Driver();
  Driver(const Driver&) = delete;
  Driver& operator=(const Driver&) = delete;

  // The driver the calling thread is running, or null.
  static Driver* Current();

  // Makes `driver` the calling thread's current driver for a scope.
  class Enter {
   public:
    explicit Enter(Driver* driver);
    ~Enter();
    Enter(const Enter&) = delete;
    Enter& operator=(const Enter&) = delete;

   private:
    Driver* previous_;
    LocalExecutor::Enter executor_scope_;
  };

  Backend& backend() { return *backend_; }
  TimerWheel& timers() { return timers_; }
  LocalExecutor& executor() { return *executor_; }

  // One turn, as above. With may_block false, never waits.
  void Turn(bool may_block);

  // Cancels an in-flight operation and runs the backend until `*in_flight`
  // turns false (the operation's completion clears it). For destructors of
  // futures destroyed mid-operation: the buffer must outlive the kernel's
  // use of it.
  void CancelAndWait(Operation* op, const bool* in_flight);

  // Owner thread: the registry of spawned tasks that have not completed.
  void AddLiveTask(internal::TaskHeader* task);
  void RemoveLiveTask(internal::TaskHeader* task);

 private:
  explicit Driver(std::unique_ptr<Backend> backend);
  void DrainOperations();

  std::unique_ptr<Backend> backend_;
  TimerWheel timers_;
  LocalExecutor* executor_;  // reference-counted, see local_executor.h
  internal::TaskHeader* live_tasks_ = nullptr;
};

}  // namespace polyio

#endif  // POLYIO_RUNTIME_DRIVER_H_
