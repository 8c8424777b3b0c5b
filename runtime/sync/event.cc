#include "runtime/sync/event.h"

namespace polyio::sync {

using internal::WakeBatch;

void Event::Set() {
  WakeBatch wake;
  MutexLock lock(&mu_);
  set_ = true;
  while (Waiter* w = waiters_.PopFront()) {
    w->released = true;
    wake.Add(w);
  }
}

void Event::Clear() {
  MutexLock lock(&mu_);
  set_ = false;
}

bool Event::IsSet() const {
  MutexLock lock(&mu_);
  return set_;
}

Poll<absl::Status> Event::WaitFuture::Poll(Context& cx) {
  if (state_ == State::kIdle) {
    if (cx.cancelled()) {
      state_ = State::kDone;
      return absl::CancelledError("event wait: cancelled");
    }
    if (!cx.ConsumeBudget()) {
      cx.waker().WakeByRef();
      return kPending;
    }
  }
  MutexLock lock(&event_->mu_);
  switch (state_) {
    case State::kIdle:
      if (event_->set_) {
        state_ = State::kDone;
        return absl::OkStatus();
      }
      node_.SetWaker(cx.waker());
      event_->waiters_.PushBack(&node_);
      state_ = State::kWaiting;
      return kPending;
    case State::kWaiting:
      if (node_.released) {
        state_ = State::kDone;
        return absl::OkStatus();
      }
      if (cx.cancelled()) {
        event_->waiters_.Remove(&node_);
        state_ = State::kDone;
        return absl::CancelledError("event wait: cancelled");
      }
      node_.SetWaker(cx.waker());
      return kPending;
    case State::kDone:
      break;
  }
  return absl::FailedPreconditionError(
      "event wait: polled again after it completed");
}

Event::WaitFuture::~WaitFuture() {
  if (state_ != State::kWaiting) return;
  MutexLock lock(&event_->mu_);
  if (node_.linked()) event_->waiters_.Remove(&node_);
}

}  // namespace polyio::sync
