// TaskGroup: structured concurrency — spawned children that end together.
//
//   TaskGroup group;
//   for (auto& conn : conns) group.Spawn(Serve(&conn));
//   absl::Status s = co_await group.Wait();   // all ended; the first error
//
// - Spawn(task) spawns the child with polyio::Spawn (join_handle.h): it runs
//   concurrently with its parent and its siblings, on the multi-thread
//   runtime possibly on other threads. A child's result counts as an error
//   when it is a non-OK absl::Status or absl::StatusOr, or an exception;
//   other results are discarded (children report through what they share).
// - The first error cancels the group: every other child is aborted
//   (JoinHandle::Abort: cooperative, its suspension points report
//   CancelledError), and so is every child spawned later.
// - co_await Wait() completes when every child spawned so far (and any they
//   or others spawn meanwhile) has finished — its coroutine frame and
//   parameters destroyed — and reports: the first exception, rethrown (an
//   exception outranks a status; later exceptions are dropped, as with
//   WhenAll); else the first error status; else OkStatus. Once the group is
//   cancelled, CancelledError from a child is the expected consequence and
//   not an error of its own.
// - Cancel() aborts every child without an error of its own: Wait reports
//   OkStatus unless some child failed otherwise (Trio's cancel_scope.cancel).
// - Cancellation of the awaiting task: a Wait polled by a cancelled task
//   cancels the group, still waits for every child to finish, and reports
//   CancelledError (unless a child failed first).
// - A group may be waited on again after more Spawns; a cancelled group
//   stays cancelled.
//
// Lifetime — children cannot outlive the group:
// - The promise is kept by Wait(): when it returns, no child runs, so the
//   children may borrow from the frame that owns the group (including the
//   group itself, to spawn siblings).
// - Destroying a group that still has children (Wait skipped on an early
//   co_return, or the owning frame destroyed at shutdown) aborts them, but a
//   destructor cannot wait: an aborted child may still be unwinding on its
//   thread after ~TaskGroup returns. The group's own bookkeeping is safe
//   then — it lives in a reference-counted block that the children hold, so
//   a late child never touches freed group memory — but anything the child
//   borrowed from the destroyed frame, the TaskGroup object included, is
//   not. WithTaskGroup(body) closes that gap: it always awaits Wait(), also
//   when the body returns early, fails or throws (Trio's nursery, Kotlin's
//   coroutineScope, asyncio.TaskGroup's `async with`).
//
// Cancel-safety (docs/cancellation.md): Wait is cancel-safe in that the
// group's children always finish before it returns; their results are theirs.
//
// Thread-safe: Spawn and Cancel may be called from any thread that runs a
// driver (a child may spawn siblings); children finish on any thread. Wait
// is awaited by one task at a time.
#ifndef POLYIO_RUNTIME_COMPOSE_TASK_GROUP_H_
#define POLYIO_RUNTIME_COMPOSE_TASK_GROUP_H_

#include <atomic>
#include <cstdint>
#include <exception>
#include <type_traits>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "platform/mutex.h"
#include "runtime/driver/spawn.h"
#include "runtime/task/context.h"
#include "runtime/task/join_handle.h"
#include "runtime/task/poll.h"
#include "runtime/task/task.h"
#include "runtime/task/waker.h"

namespace polyio {

namespace internal {

// The group's bookkeeping, shared by the TaskGroup and its running children.
class TaskGroupState {
 public:
  TaskGroupState() = default;
  TaskGroupState(const TaskGroupState&) = delete;
  TaskGroupState& operator=(const TaskGroupState&) = delete;

  void Ref() { refs_.fetch_add(1, std::memory_order_relaxed); }
  void Unref() {
    if (refs_.fetch_sub(1, std::memory_order_acq_rel) == 1) delete this;
  }

  // Spawns the task `make(slot)` builds as a child in a free slot.
  template <class Make>
  void Spawn(Make make) ABSL_LOCKS_EXCLUDED(mu_) {
    MutexLock lock(&mu_);
    uint32_t slot;
    if (free_slots_.empty()) {
      slot = static_cast<uint32_t>(children_.size());
      children_.emplace_back();
    } else {
      slot = free_slots_.back();
      free_slots_.pop_back();
    }
    ++live_;
    // Spawned under the lock: the child cannot report itself done (on
    // another worker) before its handle is in its slot. Spawn only queues.
    children_[slot] = ::polyio::Spawn(make(slot));
    if (cancelled_) children_[slot].Abort();
  }

  // A child has finished (its frame is gone). `error` is its exception.
  void ChildDone(uint32_t slot, absl::Status status, std::exception_ptr error)
      ABSL_LOCKS_EXCLUDED(mu_);

  // Aborts every child; `reason` (if not OK) becomes the group's error
  // unless it already has one.
  void Cancel(absl::Status reason) ABSL_LOCKS_EXCLUDED(mu_);

  // Wait's poll: true with the outcome when no child is live.
  bool PollDone(const Waker& waker, absl::Status* status,
                std::exception_ptr* error) ABSL_LOCKS_EXCLUDED(mu_);

  // ~TaskGroup: aborts the children and lets them finish on their own.
  void Close() ABSL_LOCKS_EXCLUDED(mu_);

 private:
  ~TaskGroupState() = default;
  void CancelLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  std::atomic<uint32_t> refs_{1};
  Mutex mu_;
  std::vector<JoinHandle<void>> children_ ABSL_GUARDED_BY(mu_);  // by slot
  std::vector<uint32_t> free_slots_ ABSL_GUARDED_BY(mu_);
  size_t live_ ABSL_GUARDED_BY(mu_) = 0;
  bool cancelled_ ABSL_GUARDED_BY(mu_) = false;
  absl::Status error_ ABSL_GUARDED_BY(mu_);
  std::exception_ptr exception_ ABSL_GUARDED_BY(mu_);
  Waker waiter_ ABSL_GUARDED_BY(mu_);
};

inline absl::Status ChildStatus(const absl::Status& s) { return s; }
template <class U>
absl::Status ChildStatus(const absl::StatusOr<U>& s) {
  return s.status();
}
template <class T>
absl::Status ChildStatus(const T&) {
  return absl::OkStatus();
}

// A child's place in the group, owned by the child's frame (a parameter, so
// that it exists from the spawn on): it holds a reference to the state and
// reports the child done exactly once — from the body when it ends, or, if
// the frame is destroyed unfinished (a runtime shutting down, even before
// the child first ran), from its destructor.
class ChildTicket {
 public:
  ChildTicket(TaskGroupState* state, uint32_t slot)
      : state_(state), slot_(slot) {
    state_->Ref();
  }
  ChildTicket(ChildTicket&& other) noexcept
      : state_(std::exchange(other.state_, nullptr)), slot_(other.slot_) {}
  ChildTicket& operator=(ChildTicket&&) = delete;
  ~ChildTicket() {
    if (state_ == nullptr) return;
    if (!reported_) {
      state_->ChildDone(
          slot_, absl::CancelledError("TaskGroup: child destroyed unfinished"),
          nullptr);
    }
    state_->Unref();
  }

  void Report(absl::Status status, std::exception_ptr error) {
    reported_ = true;
    state_->ChildDone(slot_, std::move(status), std::move(error));
  }

 private:
  TaskGroupState* state_;
  uint32_t slot_;
  bool reported_ = false;
};

// The spawned wrapper around a child. Parameters are destroyed in reverse:
// an unfinished `task` goes before `ticket` reports.
template <class T>
Task<void> RunGroupChild(ChildTicket ticket, Task<T> task) {
  absl::Status status;
  std::exception_ptr error;
  try {
    if constexpr (std::is_void_v<T>) {
      co_await task;
    } else {
      T value = co_await task;
      status = ChildStatus(value);
    }
  } catch (...) {
    error = std::current_exception();
  }
  task = Task<T>();  // the child's frame and parameters go before Wait ends
  ticket.Report(std::move(status), std::move(error));
}

}  // namespace internal

class TaskGroupWaitFuture;

class TaskGroup {
 public:
  TaskGroup() : state_(new internal::TaskGroupState) {}
  // Aborts the children still running (see "Lifetime" above).
  ~TaskGroup();
  TaskGroup(const TaskGroup&) = delete;
  TaskGroup& operator=(const TaskGroup&) = delete;

  // Spawns `task` as a child. Must be called on a thread that runs a driver.
  template <class T>
  void Spawn(Task<T> task) {
    internal::TaskGroupState* state = state_;
    state->Spawn([state, &task](uint32_t slot) {
      return internal::RunGroupChild<T>(internal::ChildTicket(state, slot),
                                        std::move(task));
    });
  }

  // Aborts every child, now and later, without an error of its own.
  void Cancel() { state_->Cancel(absl::OkStatus()); }

  // Future<absl::Status> of the end of every child (see above).
  TaskGroupWaitFuture Wait();

 private:
  internal::TaskGroupState* state_;
};

class TaskGroupWaitFuture {
 public:
  explicit TaskGroupWaitFuture(internal::TaskGroupState* state)
      : state_(state) {
    state_->Ref();
  }
  TaskGroupWaitFuture(TaskGroupWaitFuture&& other) noexcept
      : state_(std::exchange(other.state_, nullptr)),
        cancel_seen_(other.cancel_seen_) {}
  TaskGroupWaitFuture& operator=(TaskGroupWaitFuture&&) = delete;
  ~TaskGroupWaitFuture() {
    if (state_ != nullptr) state_->Unref();
  }

  polyio::Poll<absl::Status> Poll(Context& cx);

 private:
  internal::TaskGroupState* state_;
  bool cancel_seen_ = false;
};

inline TaskGroupWaitFuture TaskGroup::Wait() {
  return TaskGroupWaitFuture(state_);
}

// Runs `body(group)` — a callable taking TaskGroup& and returning a Task of
// absl::Status (or void) — then always awaits the group: the children
// cannot outlive this call, whatever the body does. An error status or an
// exception from the body cancels the children first. Reports the body's
// exception (rethrown), else the group's exception, else the body's error,
// else the group's (Wait's) result.
template <class Body>
Task<absl::Status> WithTaskGroup(Body body) {
  TaskGroup group;
  absl::Status body_status;
  std::exception_ptr body_error;
  try {
    if constexpr (std::is_same_v<decltype(body(group)), Task<void>>) {
      co_await body(group);
    } else {
      body_status = co_await body(group);
    }
  } catch (...) {
    body_error = std::current_exception();
  }
  if (body_error || !body_status.ok()) group.Cancel();
  absl::Status waited;
  try {
    waited = co_await group.Wait();
  } catch (...) {
    if (!body_error) throw;
  }
  if (body_error) std::rethrow_exception(body_error);
  co_return body_status.ok() ? waited : body_status;
}

}  // namespace polyio

#endif  // POLYIO_RUNTIME_COMPOSE_TASK_GROUP_H_
