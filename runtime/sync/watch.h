// watch: the latest value, observed by many — tokio's sync::watch.
//
//   auto [tx, rx] = polyio::sync::watch::Channel<Config>(initial);
//   tx.Send(next);                            // replaces the value
//   absl::Status s = co_await rx.Changed();   // a value this rx hasn't seen
//   Config c = rx.BorrowAndUpdate();          // copy, and mark it seen
//
// The channel holds one value and a version. Each receiver remembers the
// version it has seen (a new receiver has seen the current value). Changed()
// completes when the value's version differs from the receiver's and marks
// it seen; values sent in between are skipped — only the latest matters.
//
// Borrow() returns a copy of the value rather than tokio's read guard, so
// that no lock can be held across a co_await; T must be copyable.
//
// Statuses (the codes every polyio::sync channel uses, docs/sync.md):
//   Changed: OkStatus; OutOfRange when the Sender is gone and this receiver
//            has seen the last value (an unseen last value is still
//            reported first); CancelledError, marking nothing seen.
//   Send:    OkStatus; FailedPrecondition when there are no receivers — the
//            value is then not stored and the argument is left untouched
//            (tokio's send; SendReplace stores it regardless).
//
// Ownership: a ChangedFuture borrows its Receiver: the Receiver must outlive
// it, and the future must not move once polled.
//
// Cancel-safe (docs/cancellation.md): a cancelled Changed marks nothing
// seen.
//
// Thread-safety: the Sender (move-only) and each Receiver (copyable) are
// thread-compatible; the endpoints may be used from any threads.
#ifndef POLYIO_RUNTIME_SYNC_WATCH_H_
#define POLYIO_RUNTIME_SYNC_WATCH_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <utility>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "platform/mutex.h"
#include "runtime/sync/wait_list.h"
#include "runtime/task/context.h"
#include "runtime/task/poll.h"

namespace polyio::sync::watch {

namespace internal {

using sync::internal::WaitList;
using sync::internal::WaitNode;
using sync::internal::WakeBatch;

template <class T>
class Shared {
 public:
  template <class V>
  explicit Shared(V&& initial) : value_(std::forward<V>(initial)) {}

  // Replaces the value (if `require_receivers`, only when someone watches);
  // moves from `value` only on success.
  template <class V>
  absl::Status Send(V&& value, bool require_receivers) {
    std::optional<T> old;  // destroyed after the lock is released
    WakeBatch wake;
    MutexLock lock(&mu_);
    if (require_receivers && receivers_ == 0) {
      return absl::FailedPreconditionError("watch send: no receivers");
    }
    old.emplace(std::move(value_));
    value_ = std::forward<V>(value);
    ++version_;
    while (WaitNode* w = waiting_.PopFront()) wake.Add(w);
    return absl::OkStatus();
  }

  T Get(uint64_t* seen) {
    MutexLock lock(&mu_);
    if (seen != nullptr) *seen = version_;
    return value_;
  }
  uint64_t version() {
    MutexLock lock(&mu_);
    return version_;
  }

  uint64_t AddReceiver() {
    MutexLock lock(&mu_);
    ++receivers_;
    return version_;
  }
  void DropReceiver() {
    MutexLock lock(&mu_);
    --receivers_;
  }
  size_t receiver_count() {
    MutexLock lock(&mu_);
    return receivers_;
  }
  void DropSender() {
    WakeBatch wake;
    MutexLock lock(&mu_);
    sender_alive_ = false;
    while (WaitNode* w = waiting_.PopFront()) wake.Add(w);
  }

  // OkStatus (marking the version seen), OutOfRange, or Unavailable (then
  // `waiter`, if given, is queued with cx's waker).
  absl::Status TryChanged(uint64_t* seen, Context* cx, WaitNode* waiter) {
    MutexLock lock(&mu_);
    if (version_ != *seen) {
      *seen = version_;
      UnlinkLocked(waiter);
      return absl::OkStatus();
    }
    if (!sender_alive_) {
      UnlinkLocked(waiter);
      return absl::OutOfRangeError("watch changed: the sender is gone");
    }
    if (waiter != nullptr) {
      waiter->SetWaker(cx->waker());
      if (!waiter->linked()) waiting_.PushBack(waiter);
    }
    return absl::UnavailableError("watch changed: no change yet");
  }

  void Unlink(WaitNode* waiter) {
    MutexLock lock(&mu_);
    UnlinkLocked(waiter);
  }

 private:
  void UnlinkLocked(WaitNode* waiter) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    if (waiter != nullptr && waiter->linked()) waiting_.Remove(waiter);
  }

  polyio::Mutex mu_;
  T value_ ABSL_GUARDED_BY(mu_);
  uint64_t version_ ABSL_GUARDED_BY(mu_) = 0;
  size_t receivers_ ABSL_GUARDED_BY(mu_) = 1;
  bool sender_alive_ ABSL_GUARDED_BY(mu_) = true;
  WaitList<WaitNode> waiting_ ABSL_GUARDED_BY(mu_);
};

}  // namespace internal

template <class T>
class Sender;

// A view of the channel's value. Copyable (the copy has seen what this
// receiver has seen).
template <class T>
class Receiver {
 public:
  class ChangedFuture;

  Receiver(const Receiver& other) : shared_(other.shared_), seen_(other.seen_) {
    if (shared_ != nullptr) shared_->AddReceiver();
  }
  Receiver(Receiver&& other) noexcept
      : shared_(std::move(other.shared_)), seen_(other.seen_) {}
  Receiver& operator=(const Receiver& other) {
    if (this != &other) *this = Receiver(other);
    return *this;
  }
  Receiver& operator=(Receiver&& other) noexcept {
    if (this != &other) {
      Drop();
      shared_ = std::move(other.shared_);
      seen_ = other.seen_;
    }
    return *this;
  }
  ~Receiver() { Drop(); }

  // Output: absl::Status.
  ChangedFuture Changed() { return ChangedFuture(this); }

  // A copy of the current value; does not mark it seen.
  T Borrow() const { return shared_->Get(nullptr); }
  // A copy of the current value, marked seen.
  T BorrowAndUpdate() { return shared_->Get(&seen_); }
  // True when the value changed since this receiver last saw it;
  // OutOfRange when it has not and the sender is gone.
  absl::StatusOr<bool> HasChanged() const {
    uint64_t seen = seen_;
    absl::Status s = shared_->TryChanged(&seen, nullptr, nullptr);
    if (s.ok()) return true;
    if (absl::IsUnavailable(s)) return false;
    return s;
  }

 private:
  friend class Sender<T>;
  template <class U, class V>
  friend std::pair<Sender<U>, Receiver<U>> Channel(V&& initial);
  Receiver(std::shared_ptr<internal::Shared<T>> shared, uint64_t seen)
      : shared_(std::move(shared)), seen_(seen) {}

  void Drop() {
    if (shared_ != nullptr) std::exchange(shared_, nullptr)->DropReceiver();
  }

  std::shared_ptr<internal::Shared<T>> shared_;
  uint64_t seen_ = 0;
};

template <class T>
class [[nodiscard]] Receiver<T>::ChangedFuture {
 public:
  explicit ChangedFuture(Receiver* rx) : rx_(rx) {}
  // Moving is allowed only before the first poll.
  ChangedFuture(ChangedFuture&& other) noexcept : rx_(other.rx_) {}
  ChangedFuture& operator=(ChangedFuture&&) = delete;
  ~ChangedFuture() {
    if (rx_->shared_ != nullptr) rx_->shared_->Unlink(&node_);
  }

  polyio::Poll<absl::Status> Poll(Context& cx) {
    if (rx_->shared_ == nullptr) {
      return absl::FailedPreconditionError(
          "watch changed: moved-from receiver");
    }
    // A change already marked seen is reported even if cancelled since.
    if (ready_) return absl::OkStatus();
    if (cx.cancelled()) {
      rx_->shared_->Unlink(&node_);
      return absl::CancelledError("watch changed: cancelled");
    }
    absl::Status s = rx_->shared_->TryChanged(&rx_->seen_, &cx, &node_);
    if (absl::IsUnavailable(s)) return kPending;
    if (s.ok() && !cx.ConsumeBudget()) {
      // The change is marked seen already: keep it for the next poll.
      ready_ = true;
      cx.waker().WakeByRef();
      return kPending;
    }
    return s;
  }

 private:
  Receiver* rx_;
  bool ready_ = false;
  internal::WaitNode node_;
};

// The sending end. Move-only.
template <class T>
class Sender {
 public:
  Sender(Sender&&) noexcept = default;
  Sender& operator=(Sender&& other) noexcept {
    if (this != &other) {
      Drop();
      shared_ = std::move(other.shared_);
    }
    return *this;
  }
  ~Sender() { Drop(); }

  // Replaces the value and wakes the receivers; fails, storing nothing, when
  // there are none. Moves from `value` only on success.
  absl::Status Send(T&& value) { return SendImpl(std::move(value), true); }
  absl::Status Send(const T& value) { return SendImpl(value, true); }
  // Replaces the value even with no receivers (a later Subscribe sees it).
  void SendReplace(T value) { SendImpl(std::move(value), false).IgnoreError(); }

  T Borrow() const { return shared_->Get(nullptr); }
  // A receiver that has seen the current value.
  Receiver<T> Subscribe() {
    return Receiver<T>(shared_, shared_->AddReceiver());
  }
  size_t receiver_count() const { return shared_->receiver_count(); }

 private:
  template <class U, class V>
  friend std::pair<Sender<U>, Receiver<U>> Channel(V&& initial);
  explicit Sender(std::shared_ptr<internal::Shared<T>> shared)
      : shared_(std::move(shared)) {}

  template <class V>
  absl::Status SendImpl(V&& value, bool require_receivers) {
    if (shared_ == nullptr) {
      return absl::FailedPreconditionError("watch send: moved-from sender");
    }
    return shared_->Send(std::forward<V>(value), require_receivers);
  }
  void Drop() {
    if (shared_ != nullptr) std::exchange(shared_, nullptr)->DropSender();
  }

  std::shared_ptr<internal::Shared<T>> shared_;
};

template <class T, class V>
std::pair<Sender<T>, Receiver<T>> Channel(V&& initial) {
  auto shared = std::make_shared<internal::Shared<T>>(std::forward<V>(initial));
  return {Sender<T>(shared), Receiver<T>(shared, 0)};
}

}  // namespace polyio::sync::watch

#endif  // POLYIO_RUNTIME_SYNC_WATCH_H_
