// JoinHandle<T>: awaiting the end of a task that runs on its own, and
// SpawnOn(scheduler, task), which starts one.
//
// SpawnOn hands a Task<T> to a TaskScheduler and returns a JoinHandle<T>, a
// Future of the task's result (Spawn, in runtime/driver/spawn.h, is SpawnOn
// with the calling thread's scheduler):
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
// A finished task's frame is freed as it finishes — what it owned (sockets,
// channel ends) goes then, not when the handle goes; only its result waits
// for the handle.
//
// Cancellation of the awaiter (docs/cancellation.md): awaiting a JoinHandle
// honours the awaiting task's cancellation like any future, so Timeout,
// WhenAny/Select and TaskGroup can race it: a cancelled awaiter stops
// waiting with CancelledError and the task runs on (as tokio's JoinHandle;
// Abort() the task to stop it). Cancel-safe: a result that is already there
// is returned even to a cancelled awaiter; one that is not stays in the
// task, and the handle may be awaited again.
//
// An exception that escapes a task nobody awaits (detached, or its handle
// dropped without taking the result) is not lost in silence: it goes to
// the hook of SetDetachedTaskExceptionHook (task_header.h), by default one
// line on stderr naming where the task was spawned.
//
// Thread-safety: a JoinHandle may be awaited and aborted from any thread;
// SpawnOn may be called from any thread.
#ifndef POLYIO_RUNTIME_TASK_JOIN_HANDLE_H_
#define POLYIO_RUNTIME_TASK_JOIN_HANDLE_H_

#include <cstdio>
#include <cstdlib>
#include <exception>
#include <optional>
#include <type_traits>
#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "platform/source_location.h"
#include "runtime/task/context.h"
#include "runtime/task/poll.h"
#include "runtime/task/task.h"
#include "runtime/task/task_header.h"

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
  SpawnedTask(Task<T> task, TaskScheduler* scheduler, SourceLocation spawned_at)
      : TaskHeader(&kVTable, scheduler, spawned_at), task_(std::move(task)) {}

  // The result of a completed task (rethrowing its exception). Once.
  T TakeResult() {
    if (std::exception_ptr e = TakeException()) std::rethrow_exception(e);
    if constexpr (std::is_void_v<T>) {
      return;
    } else {
      return std::move(*output_);
    }
  }

 private:
  static bool Step(TaskHeader* h, Context& cx) {
    auto* self = static_cast<SpawnedTask*>(h);
    if (!self->task_.Step(cx)) return false;
    self->Finish();
    return true;
  }
  // Moves the result out of the frame, then frees the frame.
  void Finish() {
    try {
      if constexpr (std::is_void_v<T>) {
        task_.TakeResult();
      } else {
        output_.emplace(task_.TakeResult());
      }
    } catch (...) {
      set_exception(std::current_exception());
    }
    task_ = Task<T>();
  }
  static void DestroyFrame(TaskHeader* h) {
    static_cast<SpawnedTask*>(h)->task_ = Task<T>();
  }
  static void Deallocate(TaskHeader* h) { delete static_cast<SpawnedTask*>(h); }
  static constexpr VTable kVTable = {&Step, &DestroyFrame, &Deallocate};

  Task<T> task_;
  struct NoOutput {};
  std::conditional_t<std::is_void_v<T>, NoOutput, std::optional<T>> output_;
};

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
    if (task_->complete()) return TakeResult();
    if (cx.cancelled()) {
      task_->StopJoinWait();
      return Output(absl::CancelledError(
          "JoinHandle: the awaiting task was cancelled; the task it awaits "
          "runs on"));
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
      task_->TakeResult();
      return absl::OkStatus();
    } else {
      return Output(task_->TakeResult());
    }
  }

  void Reset() {
    if (task_ == nullptr) return;
    internal::SpawnedTask<T>* task = std::exchange(task_, nullptr);
    task->Detach();
    task->Unref();
  }

  internal::SpawnedTask<T>* task_ = nullptr;
};

// Spawns `task` on `scheduler`; any thread. `spawned_at` is where the
// task came from, for reports (the caller's line, by default).
template <class T>
JoinHandle<T> SpawnOn(TaskScheduler& scheduler, Task<T> task,
                      SourceLocation spawned_at = SourceLocation::Current()) {
  auto* spawned =
      new internal::SpawnedTask<T>(std::move(task), &scheduler, spawned_at);
  spawned->Schedule();
  return JoinHandle<T>(spawned);
}

}  // namespace polyio

#endif  // POLYIO_RUNTIME_TASK_JOIN_HANDLE_H_
