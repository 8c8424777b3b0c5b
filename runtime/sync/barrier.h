// Barrier: n tasks wait until all n have arrived — tokio's sync::Barrier.
//
//   polyio::sync::Barrier b(3);
//   absl::StatusOr<BarrierWaitResult> r = co_await b.Wait();
//   if (r.ok() && r->is_leader()) ...   // exactly one of each group of n
//
// The n-th arrival completes at once as the leader and releases the n-1
// waiting; the barrier then starts over for the next group (it is
// reusable). Barrier(0) behaves as Barrier(1), as in tokio.
//
// Cancellation (docs/cancellation.md) — here we differ from tokio, whose
// dropped wait still counts as an arrival: a Wait polled in a cancelled task,
// or destroyed while waiting, withdraws its arrival, so the group still needs
// n live tasks. A Wait whose group was already released returns its result
// even if the task was cancelled since.
//
// Ownership: the Barrier must outlive its futures. A Wait future must not
// move once polled.
//
// Cancel-safe (docs/cancellation.md): a cancelled Wait does not count as an
// arrival.
//
// Thread-safe.
#ifndef POLYIO_RUNTIME_SYNC_BARRIER_H_
#define POLYIO_RUNTIME_SYNC_BARRIER_H_

#include <cstddef>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "platform/mutex.h"
#include "runtime/sync/wait_list.h"
#include "runtime/task/context.h"
#include "runtime/task/poll.h"

namespace polyio::sync {

class BarrierWaitResult {
 public:
  explicit BarrierWaitResult(bool leader) : leader_(leader) {}
  bool is_leader() const { return leader_; }

 private:
  bool leader_;
};

class Barrier {
 public:
  class WaitFuture;

  explicit Barrier(size_t n) : n_(n == 0 ? 1 : n) {}
  Barrier(const Barrier&) = delete;
  Barrier& operator=(const Barrier&) = delete;

  // Output: absl::StatusOr<BarrierWaitResult>; CancelledError if the task
  // was cancelled before its group was released.
  WaitFuture Wait();

 private:
  struct Waiter : internal::WaitNode {
    bool released = false;
  };

  polyio::Mutex mu_;
  const size_t n_;
  size_t arrived_ ABSL_GUARDED_BY(mu_) = 0;
  internal::WaitList<Waiter> waiters_ ABSL_GUARDED_BY(mu_);
};

class [[nodiscard]] Barrier::WaitFuture {
 public:
  explicit WaitFuture(Barrier* barrier) : barrier_(barrier) {}
  // Moving is allowed only before the first poll.
  WaitFuture(WaitFuture&& other) noexcept : barrier_(other.barrier_) {}
  WaitFuture& operator=(WaitFuture&&) = delete;
  ~WaitFuture();

  polyio::Poll<absl::StatusOr<BarrierWaitResult>> Poll(Context& cx);

 private:
  enum class State { kIdle, kWaiting, kDone };

  Barrier* barrier_;
  State state_ = State::kIdle;
  Waiter node_;
};

inline Barrier::WaitFuture Barrier::Wait() { return WaitFuture(this); }

}  // namespace polyio::sync

#endif  // POLYIO_RUNTIME_SYNC_BARRIER_H_
