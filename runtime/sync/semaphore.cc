#include "runtime/sync/semaphore.h"

#include <algorithm>

#include "absl/strings/str_cat.h"

namespace polyio::sync {

using internal::WakeBatch;
using Result = absl::StatusOr<SemaphorePermit>;

void SemaphorePermit::Release() {
  if (sem_ != nullptr && count_ != 0) sem_->Release(count_);
  count_ = 0;
}

Semaphore::Semaphore(size_t permits)
    : permits_(std::min(permits, kMaxPermits)) {}

absl::StatusOr<SemaphorePermit> Semaphore::TryAcquire(size_t n) {
  MutexLock lock(&mu_);
  if (closed_) {
    return absl::FailedPreconditionError(
        "semaphore try_acquire: semaphore closed");
  }
  if (!waiters_.empty() || permits_ < n) {
    return absl::ResourceExhaustedError(absl::StrCat(
        "semaphore try_acquire: ", n, " permits wanted, ", permits_, " free, ",
        waiters_.size(), " waiters queued ahead"));
  }
  permits_ -= n;
  return SemaphorePermit(this, n);
}

absl::Status Semaphore::AddPermits(size_t n) {
  WakeBatch wake;
  MutexLock lock(&mu_);
  if (n > kMaxPermits - permits_) {
    return absl::InvalidArgumentError(absl::StrCat("semaphore add_permits ", n,
                                                   ": more than the maximum ",
                                                   kMaxPermits, " permits"));
  }
  permits_ += n;
  GrantLocked(wake);
  return absl::OkStatus();
}

void Semaphore::Release(size_t n) {
  WakeBatch wake;
  MutexLock lock(&mu_);
  // Held permits came out of the count, so it cannot pass kMaxPermits unless
  // AddPermits raced past it; saturate rather than wrap.
  permits_ = n > kMaxPermits - permits_ ? kMaxPermits : permits_ + n;
  GrantLocked(wake);
}

void Semaphore::GrantLocked(WakeBatch& wake) {
  while (!waiters_.empty() && waiters_.front()->needed <= permits_) {
    Waiter* w = waiters_.PopFront();
    permits_ -= w->needed;
    w->outcome = Outcome::kGranted;
    wake.Add(w);
  }
}

void Semaphore::Close() {
  WakeBatch wake;
  MutexLock lock(&mu_);
  closed_ = true;
  while (Waiter* w = waiters_.PopFront()) {
    w->outcome = Outcome::kClosed;
    wake.Add(w);
  }
}

bool Semaphore::IsClosed() const {
  MutexLock lock(&mu_);
  return closed_;
}

size_t Semaphore::available_permits() const {
  MutexLock lock(&mu_);
  return permits_;
}

Poll<absl::StatusOr<SemaphorePermit>> Semaphore::AcquireFuture::Poll(
    Context& cx) {
  const size_t n = node_.needed;
  if (state_ == State::kIdle) {
    if (cx.cancelled()) {
      state_ = State::kDone;
      return Result(absl::CancelledError(absl::StrCat(op_, ": cancelled")));
    }
    if (n > kMaxPermits) {
      state_ = State::kDone;
      return Result(absl::InvalidArgumentError(absl::StrCat(
          op_, " ", n, ": more than the maximum ", kMaxPermits, " permits")));
    }
    if (!cx.ConsumeBudget()) {
      cx.waker().WakeByRef();
      return kPending;
    }
  }
  WakeBatch wake;
  MutexLock lock(&sem_->mu_);
  switch (state_) {
    case State::kIdle:
      if (sem_->closed_) {
        state_ = State::kDone;
        return Result(absl::FailedPreconditionError(
            absl::StrCat(op_, ": semaphore closed")));
      }
      if (sem_->waiters_.empty() && sem_->permits_ >= n) {
        sem_->permits_ -= n;
        state_ = State::kDone;
        return Result(SemaphorePermit(sem_, n));
      }
      node_.SetWaker(cx.waker());
      sem_->waiters_.PushBack(&node_);
      state_ = State::kWaiting;
      return kPending;
    case State::kWaiting:
      if (node_.outcome == Outcome::kGranted) {
        state_ = State::kDone;
        return Result(SemaphorePermit(sem_, n));
      }
      if (node_.outcome == Outcome::kClosed) {
        state_ = State::kDone;
        return Result(absl::FailedPreconditionError(
            absl::StrCat(op_, ": semaphore closed")));
      }
      if (cx.cancelled()) {
        sem_->waiters_.Remove(&node_);
        // Leaving may unblock those behind a large request at the head.
        sem_->GrantLocked(wake);
        state_ = State::kDone;
        return Result(absl::CancelledError(absl::StrCat(op_, ": cancelled")));
      }
      node_.SetWaker(cx.waker());
      return kPending;
    case State::kDone:
      break;
  }
  return Result(absl::FailedPreconditionError(
      absl::StrCat(op_, ": polled again after it completed")));
}

Semaphore::AcquireFuture::~AcquireFuture() {
  if (state_ != State::kWaiting) return;
  WakeBatch wake;
  MutexLock lock(&sem_->mu_);
  if (node_.linked()) {
    sem_->waiters_.Remove(&node_);
  } else if (node_.outcome == Outcome::kGranted) {
    sem_->permits_ += node_.needed;  // handed over but never taken
  }
  sem_->GrantLocked(wake);
}

}  // namespace polyio::sync
