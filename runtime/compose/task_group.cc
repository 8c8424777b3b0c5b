#include "runtime/compose/task_group.h"

namespace polyio {
namespace internal {

void TaskGroupState::ChildDone(uint32_t slot, absl::Status status,
                               std::exception_ptr error) {
  Waker waiter;
  JoinHandle<void> handle;  // dropped outside the lock
  {
    MutexLock lock(&mu_);
    handle = std::move(children_[slot]);
    free_slots_.push_back(slot);
    if (error) {
      if (!exception_) exception_ = std::move(error);
      CancelLocked();
    } else if (!status.ok() && !(cancelled_ && absl::IsCancelled(status))) {
      if (error_.ok()) error_ = std::move(status);
      CancelLocked();
    }
    if (--live_ == 0) waiter = std::move(waiter_);
  }
  std::move(waiter).Wake();
}

void TaskGroupState::Cancel(absl::Status reason) {
  MutexLock lock(&mu_);
  if (!reason.ok() && error_.ok()) error_ = std::move(reason);
  CancelLocked();
}

void TaskGroupState::CancelLocked() {
  if (cancelled_) return;
  cancelled_ = true;
  // Abort only flags the task and queues it: nothing here re-enters the
  // group, so it is safe under the lock (and keeps Spawn from racing it).
  for (JoinHandle<void>& child : children_) child.Abort();
}

bool TaskGroupState::PollDone(const Waker& waker, absl::Status* status,
                              std::exception_ptr* error) {
  MutexLock lock(&mu_);
  if (live_ == 0) {
    *status = error_;
    *error = exception_;
    return true;
  }
  if (!waiter_.WillWake(waker)) waiter_ = waker;
  return false;
}

void TaskGroupState::Close() {
  std::vector<JoinHandle<void>> detached;
  Waker waiter;
  {
    MutexLock lock(&mu_);
    CancelLocked();
    detached.reserve(live_);
    for (JoinHandle<void>& child : children_) {
      if (child.task() != nullptr) detached.push_back(std::move(child));
    }
    waiter = std::move(waiter_);
  }
}

}  // namespace internal

TaskGroup::~TaskGroup() {
  state_->Close();
  state_->Unref();
}

Poll<absl::Status> TaskGroupWaitFuture::Poll(Context& cx) {
  if (!cancel_seen_ && cx.cancelled()) {
    cancel_seen_ = true;
    state_->Cancel(absl::CancelledError(
        "TaskGroup::Wait: the waiting task was cancelled"));
  }
  absl::Status status;
  std::exception_ptr error;
  if (!state_->PollDone(cx.waker(), &status, &error)) return kPending;
  if (error) std::rethrow_exception(error);
  return status;
}

}  // namespace polyio
