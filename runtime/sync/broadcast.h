// broadcast: every receiver sees every value — tokio's sync::broadcast.
//
//   auto [tx, rx1] = polyio::sync::broadcast::Channel<Event>(16);
//   auto rx2 = tx.Subscribe();          // sees values sent from now on
//   tx.Send(e);                         // StatusOr<size_t>: receivers reached
//   absl::StatusOr<Event> v = co_await rx1.Recv();
//
// The channel keeps the last `capacity` values in a ring (a capacity of 0 is
// taken as 1). A receiver more than `capacity` values behind has lost the
// oldest ones: its next Recv fails with a lag status — DataLoss, for which
// IsLagged() is true and MissedCount() says how many values it missed — and
// the following Recv continues from the oldest value still retained, as in
// tokio. A sender never waits.
//
// Statuses (the codes every polyio::sync channel uses, docs/sync.md):
//   Recv:    a copy of the value (T must be copyable); the lag status above;
//            OutOfRange once every sender is gone and this receiver has
//            seen every retained value; CancelledError, taking nothing.
//   TryRecv: also Unavailable when nothing new has been sent yet.
//   Send:    the number of receivers that will see the value;
//            FailedPrecondition when there are no receivers — the value is
//            then not stored and the argument is left untouched.
//
// Values stay in the ring until overwritten (tokio frees a value once every
// receiver has seen it; here memory is bounded by `capacity` either way).
// When the last receiver goes, the ring is emptied.
//
// Ownership: a RecvFuture borrows its Receiver: the Receiver must outlive
// it, and the future must not move once polled.
//
// Cancel-safe (docs/cancellation.md): a cancelled Recv takes nothing.
//
// Thread-safety: Sender is copyable and each copy, like each Receiver, is
// thread-compatible (one owner at a time); the endpoints of one channel may
// be used from any threads.
#ifndef POLYIO_RUNTIME_SYNC_BROADCAST_H_
#define POLYIO_RUNTIME_SYNC_BROADCAST_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/cord.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "platform/mutex.h"
#include "runtime/sync/wait_list.h"
#include "runtime/task/context.h"
#include "runtime/task/poll.h"

namespace polyio::sync::broadcast {

// The lag status carries the count as a payload under this type URL.
inline constexpr char kLaggedPayload[] = "type.polyio/sync.broadcast.Lagged";

inline absl::Status LaggedError(uint64_t missed) {
  absl::Status s = absl::DataLossError(absl::StrCat(
      "broadcast recv: receiver lagged behind and missed ", missed, " values"));
  s.SetPayload(kLaggedPayload, absl::Cord(absl::StrCat(missed)));
  return s;
}

inline bool IsLagged(const absl::Status& s) {
  return absl::IsDataLoss(s) && s.GetPayload(kLaggedPayload).has_value();
}

// How many values a lagging receiver missed; 0 for any other status.
inline uint64_t MissedCount(const absl::Status& s) {
  auto p = s.GetPayload(kLaggedPayload);  // absl::optional<absl::Cord>
  uint64_t n = 0;
  if (!p.has_value() || !absl::SimpleAtoi(std::string(*p), &n)) return 0;
  return n;
}

namespace internal {

using sync::internal::WaitList;
using sync::internal::WaitNode;
using sync::internal::WakeBatch;

template <class T>
class Shared {
 public:
  explicit Shared(size_t capacity) : capacity_(capacity), ring_(capacity) {}

  template <class V>
  absl::StatusOr<size_t> Send(V&& value) {
    std::optional<T> overwritten;  // destroyed after the lock is released
    WakeBatch wake;
    MutexLock lock(&mu_);
    if (receivers_ == 0) {
      return absl::FailedPreconditionError("broadcast send: no receivers");
    }
    std::optional<T>& slot = ring_[tail_ % capacity_];
    overwritten = std::move(slot);
    slot.emplace(std::forward<V>(value));
    ++tail_;
    while (WaitNode* w = waiting_.PopFront()) wake.Add(w);
    return receivers_;
  }

  // The position a new receiver starts from (it sees later values only).
  uint64_t AddReceiver() {
    MutexLock lock(&mu_);
    ++receivers_;
    return tail_;
  }
  void DropReceiver(WaitNode* waiter) {
    std::vector<std::optional<T>> dropped;
    {
      MutexLock lock(&mu_);
      if (waiter != nullptr && waiter->linked()) waiting_.Remove(waiter);
      if (--receivers_ == 0) {
        dropped.swap(ring_);
        ring_.resize(capacity_);
      }
    }
  }
  void AddSender() {
    MutexLock lock(&mu_);
    ++senders_;
  }
  void DropSender() {
    WakeBatch wake;
    MutexLock lock(&mu_);
    if (--senders_ == 0) {
      while (WaitNode* w = waiting_.PopFront()) wake.Add(w);
    }
  }
  size_t receiver_count() {
    MutexLock lock(&mu_);
    return receivers_;
  }

  // One receive attempt for the receiver at `*next`: a value, the lag
  // status, OutOfRange, or Unavailable (then `waiter`, if given, is queued
  // with cx's waker); nullopt when a value is there but the task has spent
  // its budget (it was woken to come back for it).
  std::optional<absl::StatusOr<T>> TryRecv(uint64_t* next, Context* cx,
                                           WaitNode* waiter) {
    MutexLock lock(&mu_);
    const uint64_t oldest = tail_ > capacity_ ? tail_ - capacity_ : 0;
    if (*next < oldest) {
      const uint64_t missed = oldest - *next;
      *next = oldest;
      UnlinkLocked(waiter);
      return absl::StatusOr<T>(LaggedError(missed));
    }
    if (*next < tail_) {
      if (cx != nullptr && !cx->ConsumeBudget()) {
        cx->waker().WakeByRef();
        return std::nullopt;
      }
      UnlinkLocked(waiter);
      return absl::StatusOr<T>(*ring_[(*next)++ % capacity_]);
    }
    if (senders_ == 0) {
      UnlinkLocked(waiter);
      return absl::StatusOr<T>(
          absl::OutOfRangeError("broadcast recv: every sender is gone"));
    }
    if (waiter != nullptr) {
      waiter->SetWaker(cx->waker());
      if (!waiter->linked()) waiting_.PushBack(waiter);
    }
    return absl::StatusOr<T>(
        absl::UnavailableError("broadcast recv: nothing new"));
  }

  void Unlink(WaitNode* waiter) {
    MutexLock lock(&mu_);
    UnlinkLocked(waiter);
  }

 private:
  void UnlinkLocked(WaitNode* waiter) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    if (waiter != nullptr && waiter->linked()) waiting_.Remove(waiter);
  }

  const size_t capacity_;
  polyio::Mutex mu_;
  std::vector<std::optional<T>> ring_ ABSL_GUARDED_BY(mu_);
  uint64_t tail_ ABSL_GUARDED_BY(mu_) = 0;  // sequence number of next value
  size_t senders_ ABSL_GUARDED_BY(mu_) = 1;
  size_t receivers_ ABSL_GUARDED_BY(mu_) = 1;
  WaitList<WaitNode> waiting_ ABSL_GUARDED_BY(mu_);
};

}  // namespace internal

template <class T>
class Sender;

// A subscription. Move-only.
template <class T>
class Receiver {
 public:
  class RecvFuture;

  Receiver(Receiver&& other) noexcept
      : shared_(std::move(other.shared_)), next_(other.next_) {}
  Receiver& operator=(Receiver&& other) noexcept {
    if (this != &other) {
      Drop();
      shared_ = std::move(other.shared_);
      next_ = other.next_;
    }
    return *this;
  }
  ~Receiver() { Drop(); }

  // Output: absl::StatusOr<T>.
  RecvFuture Recv() { return RecvFuture(this); }

  absl::StatusOr<T> TryRecv() {
    if (shared_ == nullptr) {
      return absl::FailedPreconditionError(
          "broadcast try_recv: moved-from receiver");
    }
    return *shared_->TryRecv(&next_, nullptr, nullptr);
  }

  // A new receiver of the same channel that sees values sent from now on.
  Receiver Resubscribe() const {
    return Receiver(shared_, shared_->AddReceiver());
  }

 private:
  friend class Sender<T>;
  template <class U>
  friend std::pair<Sender<U>, Receiver<U>> Channel(size_t capacity);
  Receiver(std::shared_ptr<internal::Shared<T>> shared, uint64_t next)
      : shared_(std::move(shared)), next_(next) {}

  void Drop() {
    if (shared_ != nullptr) {
      std::exchange(shared_, nullptr)->DropReceiver(nullptr);
    }
  }

  std::shared_ptr<internal::Shared<T>> shared_;
  uint64_t next_ = 0;  // sequence number of the next value to receive
};

template <class T>
class [[nodiscard]] Receiver<T>::RecvFuture {
 public:
  explicit RecvFuture(Receiver* rx) : rx_(rx) {}
  // Moving is allowed only before the first poll.
  RecvFuture(RecvFuture&& other) noexcept : rx_(other.rx_) {}
  RecvFuture& operator=(RecvFuture&&) = delete;
  ~RecvFuture() {
    if (rx_->shared_ != nullptr) rx_->shared_->Unlink(&node_);
  }

  polyio::Poll<absl::StatusOr<T>> Poll(Context& cx) {
    if (rx_->shared_ == nullptr) {
      return absl::StatusOr<T>(
          absl::FailedPreconditionError("broadcast recv: moved-from receiver"));
    }
    if (cx.cancelled()) {
      rx_->shared_->Unlink(&node_);
      return absl::StatusOr<T>(
          absl::CancelledError("broadcast recv: cancelled"));
    }
    std::optional<absl::StatusOr<T>> r =
        rx_->shared_->TryRecv(&rx_->next_, &cx, &node_);
    if (!r.has_value() || absl::IsUnavailable(r->status())) return kPending;
    return std::move(*r);
  }

 private:
  Receiver* rx_;
  internal::WaitNode node_;
};

// The sending end. Copyable (each copy counts).
template <class T>
class Sender {
 public:
  Sender(const Sender& other) : shared_(other.shared_) {
    if (shared_ != nullptr) shared_->AddSender();
  }
  Sender(Sender&&) noexcept = default;
  Sender& operator=(const Sender& other) {
    if (this != &other) *this = Sender(other);
    return *this;
  }
  Sender& operator=(Sender&& other) noexcept {
    if (this != &other) {
      Drop();
      shared_ = std::move(other.shared_);
    }
    return *this;
  }
  ~Sender() { Drop(); }

  // Moves from `value` only on success.
  absl::StatusOr<size_t> Send(T&& value) { return SendImpl(std::move(value)); }
  absl::StatusOr<size_t> Send(const T& value) { return SendImpl(value); }

  Receiver<T> Subscribe() {
    return Receiver<T>(shared_, shared_->AddReceiver());
  }
  size_t receiver_count() const { return shared_->receiver_count(); }

 private:
  template <class U>
  friend std::pair<Sender<U>, Receiver<U>> Channel(size_t capacity);
  explicit Sender(std::shared_ptr<internal::Shared<T>> shared)
      : shared_(std::move(shared)) {}

  template <class V>
  absl::StatusOr<size_t> SendImpl(V&& value) {
    if (shared_ == nullptr) {
      return absl::FailedPreconditionError("broadcast send: moved-from sender");
    }
    return shared_->Send(std::forward<V>(value));
  }
  void Drop() {
    if (shared_ != nullptr) std::exchange(shared_, nullptr)->DropSender();
  }

  std::shared_ptr<internal::Shared<T>> shared_;
};

template <class T>
std::pair<Sender<T>, Receiver<T>> Channel(size_t capacity) {
  auto shared =
      std::make_shared<internal::Shared<T>>(capacity == 0 ? 1 : capacity);
  return {Sender<T>(shared), Receiver<T>(shared, 0)};
}

}  // namespace polyio::sync::broadcast

#endif  // POLYIO_RUNTIME_SYNC_BROADCAST_H_
