// Spawn and JoinHandle<T>: running a task on its own, and awaiting its end.
//
// Spawn(task) hands a Task<T> to the calling thread's scheduler — its
// driver's executor, or the work-stealing pool whose worker it is — and
// returns a JoinHandle<T>, a Future of the task's result:
//   T = void           -> absl::Status
//   T = absl::Status   -> absl::Status
//   T = StatusOr<U>    -> absl::StatusOr<U>
//   any other T        -> absl::StatusOr<T>
// The result is the task's own; it is CancelledError only when the runtime
// shut down before the task finished. An exception thrown by the task is
// rethrown to whoever awaits the handle.
//
// Dropping the handle detaches the task: it runs on to completion. Abort()
// cancels it cooperatively: its current and every later suspension point
// that can fail reports absl::CancelledError (see context.h), and it ends
// however its code handles that. A handle is awaited at most once.
//
// SpawnLocal(task) keeps the task on the calling thread: on the
// multi-thread runtime it never moves to another worker (for tasks that hold
// thread-affine state). On the current-thread runtime it is Spawn.
//
// Thread-safety: a JoinHandle may be awaited and aborted from any thread;
// Spawn and SpawnLocal must be called on a thread that runs a driver (inside
// a task, BlockOn, or EventLoop::Run).
#ifndef POLYIO_RUNTIME_JOIN_HANDLE_H_
#define POLYIO_RUNTIME_JOIN_HANDLE_H_

#include <cstdio>
#include <cstdlib>
#include <exception>
#include <type_traits>
#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "runtime/context.h"
#include "runtime/driver.h"
#include "runtime/poll.h"
#include "runtime/task.h"
#include "runtime/task_header.h"

namespace polyio {

template <class T>
struct JoinResultOf {
  using type = absl::StatusOr<T>;
};
template <>
struct JoinResultOf<void> {
  using type = absl::Status;
};
template <>
struct JoinResultOf<absl::Status> {
  using type = absl::Status;
};
template <class U>
struct JoinResultOf<absl::StatusOr<U>> {
  using type = absl::StatusOr<U>;
};
template <class T>
using JoinResult = typename JoinResultOf<T>::type;

namespace internal {

template <class T>
class SpawnedTask final : public TaskHeader {
 public:
  SpawnedTask(Task<T> task, TaskScheduler* scheduler)
      : TaskHeader(&kVTable, scheduler), task_(std::move(task)) {}

  Task<T>& task() { return task_; }

 private:
  static bool Step(TaskHeader* h, Context& cx) {
    return static_cast<SpawnedTask*>(h)->task_.Step(cx);
  }
  static void DestroyFrame(TaskHeader* h) {
    static_cast<SpawnedTask*>(h)->task_ = Task<T>();
  }
  static void Deallocate(TaskHeader* h) { delete static_cast<SpawnedTask*>(h); }
  static constexpr VTable kVTable = {&Step, &DestroyFrame, &Deallocate};

  Task<T> task_;
};

[[noreturn]] inline void DieOutsideRuntime(const char* what) {
  std::fprintf(stderr,
               "polyio: %s called on a thread that runs no driver; call it "
               "inside a task, Runtime::BlockOn or EventLoop::Run\n",
               what);
  std::abort();
}

}  // namespace internal

template <class T>
class [[nodiscard]] JoinHandle {
 public:
  using Output = JoinResult<T>;

  JoinHandle() = default;
  explicit JoinHandle(internal::SpawnedTask<T>* task) : task_(task) {}
  JoinHandle(JoinHandle&& other) noexcept
      : task_(std::exchange(other.task_, nullptr)) {}
  JoinHandle& operator=(JoinHandle&& other) noexcept {
    if (this != &other) {
      Reset();
      task_ = std::exchange(other.task_, nullptr);
    }
    return *this;
  }
  JoinHandle(const JoinHandle&) = delete;
  JoinHandle& operator=(const JoinHandle&) = delete;
  ~JoinHandle() { Reset(); }

  // Requests cooperative cancellation of the task.
  void Abort() {
    if (task_ != nullptr) task_->Abort();
  }
  bool finished() const { return task_ != nullptr && task_->complete(); }

  // The Future interface.
  polyio::Poll<Output> Poll(Context& cx) {
    if (task_ == nullptr) {
      return Output(absl::FailedPreconditionError(
          "JoinHandle: empty (moved from, or already awaited)"));
    }
    if (!task_->PollJoin(cx.waker())) return kPending;
    return TakeResult();
  }

  // Detaches: the task runs on, nobody awaits it.
  void Detach() { Reset(); }

  // For Runtime::BlockOn: the raw result, exceptions rethrown.
  internal::SpawnedTask<T>* task() const { return task_; }

 private:
  Output TakeResult() {
    if (task_->abandoned()) {
      return Output(absl::CancelledError(
          "task: the runtime shut down before the task finished"));
    }
    if constexpr (std::is_void_v<T>) {
      task_->task().TakeResult();
      return absl::OkStatus();
    } else {
      return Output(task_->task().TakeResult());
    }
  }

  void Reset() {
    if (task_ != nullptr) std::exchange(task_, nullptr)->Unref();
  }

  internal::SpawnedTask<T>* task_ = nullptr;
};

// Spawns `task` on `scheduler`; any thread.
template <class T>
JoinHandle<T> SpawnOn(TaskScheduler& scheduler, Task<T> task) {
  auto* spawned = new internal::SpawnedTask<T>(std::move(task), &scheduler);
  spawned->Schedule();
  return JoinHandle<T>(spawned);
}

template <class T>
JoinHandle<T> Spawn(Task<T> task) {
  Driver* driver = Driver::Current();
  if (driver == nullptr) internal::DieOutsideRuntime("Spawn");
  return SpawnOn(driver->spawner(), std::move(task));
}

template <class T>
JoinHandle<T> SpawnLocal(Task<T> task) {
  Driver* driver = Driver::Current();
  if (driver == nullptr) internal::DieOutsideRuntime("SpawnLocal");
  return SpawnOn(driver->executor(), std::move(task));
}

}  // namespace polyio

#endif  // POLYIO_RUNTIME_JOIN_HANDLE_H_
