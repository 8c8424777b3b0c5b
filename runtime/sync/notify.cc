#include "runtime/sync/notify.h"

namespace polyio::sync {

using internal::WakeBatch;

void Notify::NotifyOneLocked(WakeBatch& wake) {
  if (Waiter* w = waiters_.PopFront()) {
    w->outcome = Outcome::kNotifiedOne;
    wake.Add(w);
  } else {
    permit_ = true;
  }
}

void Notify::NotifyOne() {
  WakeBatch wake;
  MutexLock lock(&mu_);
  NotifyOneLocked(wake);
}

void Notify::NotifyAll() {
  WakeBatch wake;
  MutexLock lock(&mu_);
  generation_.fetch_add(1, std::memory_order_release);
  while (Waiter* w = waiters_.PopFront()) {
    w->outcome = Outcome::kNotifiedAll;
    wake.Add(w);
  }
}

Poll<absl::Status> Notify::NotifiedFuture::Poll(Context& cx) {
  if (state_ == State::kIdle) {
    if (cx.cancelled()) {
      state_ = State::kDone;
      return absl::CancelledError("notify notified: cancelled");
    }
    if (!cx.ConsumeBudget()) {
      cx.waker().WakeByRef();
      return kPending;
    }
  }
  WakeBatch wake;
  MutexLock lock(&notify_->mu_);
  switch (state_) {
    case State::kIdle:
      if (notify_->permit_) {
        notify_->permit_ = false;
        state_ = State::kDone;
        return absl::OkStatus();
      }
      if (notify_->generation_.load(std::memory_order_relaxed) != generation_) {
        state_ = State::kDone;  // a NotifyAll since this future was made
        return absl::OkStatus();
      }
      node_.SetWaker(cx.waker());
      notify_->waiters_.PushBack(&node_);
      state_ = State::kWaiting;
      return kPending;
    case State::kWaiting:
      if (node_.outcome != Outcome::kWaiting) {
        state_ = State::kDone;
        return absl::OkStatus();
      }
      if (cx.cancelled()) {
        notify_->waiters_.Remove(&node_);
        state_ = State::kDone;
        return absl::CancelledError("notify notified: cancelled");
      }
      node_.SetWaker(cx.waker());
      return kPending;
    case State::kDone:
      break;
  }
  return absl::FailedPreconditionError(
      "notify notified: polled again after it completed");
}

Notify::NotifiedFuture::~NotifiedFuture() {
  if (state_ != State::kWaiting) return;
  WakeBatch wake;
  MutexLock lock(&notify_->mu_);
  if (node_.linked()) {
    notify_->waiters_.Remove(&node_);
  } else if (node_.outcome == Outcome::kNotifiedOne) {
    notify_->NotifyOneLocked(wake);  // picked but never told: pass it on
  }
}

}  // namespace polyio::sync
