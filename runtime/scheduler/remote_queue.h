// RemoteQueue: the mailbox through which other threads hand Runnables to a
// driver thread.
//
// A mutex-guarded FIFO plus a `pending` flag that the owner reads without
// the lock, so that an empty mailbox costs one load per look. Pushing calls
// `wake_fn` (under the lock, so that Close() cannot free what it wakes), which
// interrupts the owner's backend wait. After Close(), pushes are refused and
// the caller keeps the runnable.
//
// Thread-safety: Push is thread-safe; Pop, DrainInto and Close may be called
// from any thread too (they take the lock), but only the owner should.
#ifndef POLYIO_RUNTIME_SCHEDULER_REMOTE_QUEUE_H_
#define POLYIO_RUNTIME_SCHEDULER_REMOTE_QUEUE_H_

#include <atomic>

#include "absl/base/thread_annotations.h"
#include "platform/mutex.h"
#include "runtime/task/runnable.h"

namespace polyio {

class RemoteQueue {
 public:
  using WakeFn = void (*)(void* arg);
  RemoteQueue(WakeFn wake_fn, void* wake_arg)
      : wake_fn_(wake_fn), wake_arg_(wake_arg) {}
  RemoteQueue(const RemoteQueue&) = delete;
  RemoteQueue& operator=(const RemoteQueue&) = delete;

  // False (and `r` untouched) when the queue is closed.
  bool Push(Runnable* r) ABSL_LOCKS_EXCLUDED(mu_) {
    MutexLock lock(&mu_);
    if (closed_) return false;
    queue_.Push(r);
    pending_.store(true, std::memory_order_release);
    wake_fn_(wake_arg_);
    return true;
  }

  bool pending() const { return pending_.load(std::memory_order_acquire); }

  // One at a time, so that a runnable may push (or pop) reentrantly.
  Runnable* Pop() ABSL_LOCKS_EXCLUDED(mu_) {
    if (!pending()) return nullptr;
    MutexLock lock(&mu_);
    Runnable* r = queue_.Pop();
    if (queue_.empty()) pending_.store(false, std::memory_order_relaxed);
    return r;
  }

  void DrainInto(RunQueue& out) ABSL_LOCKS_EXCLUDED(mu_) {
    if (!pending()) return;
    MutexLock lock(&mu_);
    pending_.store(false, std::memory_order_relaxed);
    out.Append(queue_);
  }

  // Refuses later pushes; returns what was queued.
  RunQueue Close() ABSL_LOCKS_EXCLUDED(mu_) {
    RunQueue rest;
    MutexLock lock(&mu_);
    closed_ = true;
    pending_.store(false, std::memory_order_relaxed);
    rest.Append(queue_);
    return rest;
  }

 private:
  std::atomic<bool> pending_{false};
  Mutex mu_;
  RunQueue queue_ ABSL_GUARDED_BY(mu_);
  bool closed_ ABSL_GUARDED_BY(mu_) = false;
  const WakeFn wake_fn_;
  void* const wake_arg_;
};

}  // namespace polyio

#endif  // POLYIO_RUNTIME_SCHEDULER_REMOTE_QUEUE_H_
