// ChildPoller: polls N child futures inside one task, re-polling only the
// children whose waker was called (as futures-rs's FuturesUnordered and
// join_all do). The engine under WhenAll and WhenAny; internal.
//
// Each child gets its own Waker. Waking it queues the child's index in a
// shared ready list and wakes the task's waker; the next poll of the
// combinator takes the list and polls just those children, each with a
// scope Context (context.h) that carries the child's waker, the task's
// budget, and the combinator's own cancel flag in front of the task's.
// Wakes that arrive while the combinator is being polled (a child that
// yields, a budget that ran out) are left for the next poll, so a yielding
// child never spins inside one poll.
//
// Cancellation, level-triggered: when the task is cancelled, or the
// combinator cancels its children (CancelRemaining), every unfinished child
// is polled once more so that it sees the cancellation; after that, the
// children's own wakers bring them back, e.g. when a cancelled operation
// completes. An exception thrown by a child's poll ends that child and is
// kept (the first one) for the combinator to rethrow once every child has
// finished; the other children are cancelled.
//
// Ownership: the wakers outlive the combinator (a child may have left a clone
// anywhere), so the ready list lives in a reference-counted ReadySet that the
// wakers share; the combinator drops its reference when destroyed, and late
// wakes then land in the list harmlessly.
//
// Thread-safety: a child's waker may be cloned, woken and dropped from any
// thread (ReadySet is thread-safe). ChildPoller itself is thread-compatible:
// it is polled by one task at a time.
#ifndef POLYIO_RUNTIME_COMPOSE_CHILD_POLLER_H_
#define POLYIO_RUNTIME_COMPOSE_CHILD_POLLER_H_

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <memory>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "platform/mutex.h"
#include "runtime/task/context.h"
#include "runtime/task/waker.h"

namespace polyio::internal {

class ReadySet {
 public:
  // Every child starts queued: the first poll polls them all. One reference,
  // the caller's.
  explicit ReadySet(uint32_t children);
  ReadySet(const ReadySet&) = delete;
  ReadySet& operator=(const ReadySet&) = delete;

  void Ref() { refs_.fetch_add(1, std::memory_order_relaxed); }
  void Unref() {
    if (refs_.fetch_sub(1, std::memory_order_acq_rel) == 1) delete this;
  }

  // Stores `waker` as the one to wake (unless it wakes the same task already)
  // and swaps the queued indices into `*batch` (which must be empty).
  void TakeReady(const Waker& waker, std::vector<uint32_t>* batch)
      ABSL_LOCKS_EXCLUDED(mu_);
  // Drops the task's waker: the combinator is going away.
  void Detach() ABSL_LOCKS_EXCLUDED(mu_);

  // Marks child `i` not queued, just before it is polled, so that a wake
  // from that poll on queues it again. Acquire: whatever the waker published
  // before waking is visible to the poll.
  void ClearQueued(uint32_t i) {
    nodes_[i].queued.exchange(false, std::memory_order_acq_rel);
  }
  // Marks child `i` queued; false if it already was (it is then in the ready
  // list or the batch being polled, and will be polled anyway).
  bool MarkQueued(uint32_t i) {
    return !nodes_[i].queued.exchange(true, std::memory_order_acq_rel);
  }

  // A new waker for child `i` (takes a reference on the set).
  Waker ChildWaker(uint32_t i);

 private:
  struct Node {
    ReadySet* set;
    uint32_t index;
    std::atomic<bool> queued{true};
  };
  static const WakerVTable kVTable;

  ~ReadySet() = default;
  void Wake(Node* node) ABSL_LOCKS_EXCLUDED(mu_);

  std::atomic<uint32_t> refs_{1};
  std::unique_ptr<Node[]> nodes_;
  Mutex mu_;
  std::vector<uint32_t> ready_ ABSL_GUARDED_BY(mu_);
  Waker task_waker_ ABSL_GUARDED_BY(mu_);
};

class ChildPoller {
 public:
  explicit ChildPoller(size_t children);
  ~ChildPoller();
  // Movable, so that a combinator can be passed around before it is polled
  // (the wakers point at the ReadySet, which does not move).
  ChildPoller(ChildPoller&& other) noexcept;
  ChildPoller& operator=(ChildPoller&&) = delete;

  size_t remaining() const { return remaining_; }
  bool cancelling() const { return cancel_children_; }

  // Polls the children that are due. `poll_child(i, child_cx)` polls child
  // i and returns true when it has completed (it is never polled again).
  template <class PollChild>
  void PollDue(Context& cx, PollChild&& poll_child) {
    set_->TakeReady(cx.waker(), &batch_);
    if (!saw_task_cancel_ && cx.cancelled()) {
      saw_task_cancel_ = true;
      QueueAllUnfinished();
    }
    // By index: CancelRemaining() may append to the batch while it runs.
    for (size_t k = 0; k < batch_.size(); ++k) {
      const uint32_t i = batch_[k];
      if (done_[i]) continue;
      set_->ClearQueued(i);
      bool finished;
      {
        Waker waker = set_->ChildWaker(i);
        Context child_cx(cx, waker, &cancel_children_);
        try {
          finished = poll_child(i, child_cx);
        } catch (...) {
          if (!exception_) exception_ = std::current_exception();
          finished = true;
          CancelRemaining();
        }
      }
      if (finished) {
        done_[i] = true;
        --remaining_;
      }
    }
    batch_.clear();
  }

  // Cancels every unfinished child (their scope turns cancelled) and has
  // each polled again so that it sees it. Idempotent.
  void CancelRemaining();

  // The first exception a child threw, if any.
  std::exception_ptr TakeException() { return std::move(exception_); }

 private:
  void QueueAllUnfinished();

  ReadySet* set_;
  std::vector<bool> done_;
  std::vector<uint32_t> batch_;
  size_t remaining_;
  bool cancel_children_ = false;  // read through the children's contexts
  bool saw_task_cancel_ = false;
  std::exception_ptr exception_;
};

}  // namespace polyio::internal

#endif  // POLYIO_RUNTIME_COMPOSE_CHILD_POLLER_H_
