#include "runtime/sync/barrier.h"

namespace polyio::sync {

using internal::WakeBatch;
using Result = absl::StatusOr<BarrierWaitResult>;

Poll<absl::StatusOr<BarrierWaitResult>> Barrier::WaitFuture::Poll(Context& cx) {
  if (state_ == State::kIdle) {
    if (cx.cancelled()) {
      state_ = State::kDone;
      return Result(absl::CancelledError("barrier wait: cancelled"));
    }
    if (!cx.ConsumeBudget()) {
      cx.waker().WakeByRef();
      return kPending;
    }
  }
  WakeBatch wake;
  MutexLock lock(&barrier_->mu_);
  switch (state_) {
    case State::kIdle:
      if (++barrier_->arrived_ == barrier_->n_) {
        barrier_->arrived_ = 0;
        while (Waiter* w = barrier_->waiters_.PopFront()) {
          w->released = true;
          wake.Add(w);
        }
        state_ = State::kDone;
        return Result(BarrierWaitResult(/*leader=*/true));
      }
      node_.SetWaker(cx.waker());
      barrier_->waiters_.PushBack(&node_);
      state_ = State::kWaiting;
      return kPending;
    case State::kWaiting:
      if (node_.released) {
        state_ = State::kDone;
        return Result(BarrierWaitResult(/*leader=*/false));
      }
      if (cx.cancelled()) {
        barrier_->waiters_.Remove(&node_);
        --barrier_->arrived_;
        state_ = State::kDone;
        return Result(absl::CancelledError("barrier wait: cancelled"));
      }
      node_.SetWaker(cx.waker());
      return kPending;
    case State::kDone:
      break;
  }
  return Result(absl::FailedPreconditionError(
      "barrier wait: polled again after it completed"));
}

Barrier::WaitFuture::~WaitFuture() {
  if (state_ != State::kWaiting) return;
  MutexLock lock(&barrier_->mu_);
  if (node_.linked()) {
    barrier_->waiters_.Remove(&node_);
    --barrier_->arrived_;
  }
}

}  // namespace polyio::sync
