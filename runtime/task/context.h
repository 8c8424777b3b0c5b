// Context: what a future receives when it is polled.
//
// - The waker of the task being polled: a future that returns Pending must
//   arrange for it to be woken.
// - Cancellation, level-triggered as in Trio: once the task (or an enclosing
//   scope such as Timeout) is cancelled, cancelled() stays true, and every
//   leaf future that can fail reports absl::CancelledError at its next poll.
// - The cooperative budget: each time a task is run it may complete this
//   many leaf operations; after that they return Pending and wake the task,
//   so that a task whose I/O is always ready still lets others run.
//
// A Context lives on the stack of whoever polls; futures must not keep a
// pointer to it. Thread-compatible.
#ifndef POLYIO_RUNTIME_TASK_CONTEXT_H_
#define POLYIO_RUNTIME_TASK_CONTEXT_H_

#include <atomic>
#include <cstdint>

#include "runtime/metrics/worker_counters.h"
#include "runtime/task/waker.h"

namespace polyio {

class Context {
 public:
  static constexpr int kDefaultBudget = 128;

  // `task_cancelled` (may be null) is read on every cancelled() call; it is
  // set from any thread by JoinHandle::Abort.
  Context(const Waker& waker, const std::atomic<bool>* task_cancelled,
          int* budget)
      : waker_(waker), task_cancelled_(task_cancelled), budget_(budget) {}

  // A scope inside `parent`: same task, same budget, its own cancel flag.
  Context(const Context& parent, const Waker& waker,
          const bool* scope_cancelled)
      : waker_(waker),
        task_cancelled_(parent.task_cancelled_),
        budget_(parent.budget_),
        parent_(&parent),
        scope_cancelled_(scope_cancelled),
        task_(parent.task_) {}

  Context(const Context&) = delete;
  Context& operator=(const Context&) = delete;

  const Waker& waker() const { return waker_; }

  // The task being polled (an internal::TaskHeader*), or null: where a leaf
  // future that parks records what it waits on (TaskHeader::NoteWait*).
  void* task() const { return task_; }
  void set_task(void* task) { task_ = task; }

  bool cancelled() const {
    // A task's own context first: asked a few times per message, and only
    // scopes (a select arm, a timeout) have a parent and a flag of their own.
    if (parent_ == nullptr) [[likely]] {
      return task_cancelled_ != nullptr &&
             task_cancelled_->load(std::memory_order_acquire);
    }
    return (scope_cancelled_ != nullptr && *scope_cancelled_) ||
           parent_->cancelled();
  }

  // Takes one unit of budget. False when the task has used its share: the
  // caller should WakeByRef() and return Pending.
  bool ConsumeBudget() {
    if (budget_ == nullptr) return true;
    if (*budget_ <= 0) {
      if (metrics::WorkerCounters* c = metrics::CurrentWorkerCounters()) {
        c->budget_exhausted.Add();
      }
      return false;
    }
    --*budget_;
    return true;
  }

 private:
  const Waker& waker_;
  const std::atomic<bool>* task_cancelled_ = nullptr;
  int* budget_ = nullptr;
  const Context* parent_ = nullptr;
  const bool* scope_cancelled_ = nullptr;
  void* task_ = nullptr;
};

}  // namespace polyio

#endif  // POLYIO_RUNTIME_TASK_CONTEXT_H_
