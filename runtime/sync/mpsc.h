// mpsc: multi-producer, single-consumer queues — tokio's sync::mpsc.
//
//   auto [tx, rx] = polyio::sync::mpsc::Channel<Msg>(64);   // bounded
//   absl::Status s = co_await tx.Send(msg);   // waits while the queue is full
//   absl::StatusOr<Msg> m = co_await rx.Recv();
//
//   auto [utx, urx] = polyio::sync::mpsc::UnboundedChannel<Msg>();
//   absl::Status s = utx.Send(msg);           // never waits
//
// Senders are copyable (each copy counts); the Receiver is move-only.
//
// Statuses (the codes every polyio::sync channel uses, docs/sync.md):
//   Recv:    a value; OutOfRange once every sender is gone (or the receiver
//            closed) and the queue is drained — the values sent before the
//            end are all delivered first; CancelledError, taking nothing.
//   TryRecv: also Unavailable when the queue is empty for now.
//   Send, TrySend (bounded) and UnboundedSender::Send: FailedPrecondition
//            when the Receiver is gone or closed; TrySend ResourceExhausted
//            when the queue is full. A failed send never consumes its value:
//            TrySend/Send(T&&) leave the argument untouched, and a failed
//            or cancelled SendFuture gives it back with TakeUnsent().
//
// Backpressure: a bounded channel holds at most `capacity` values (a
// capacity of 0 is taken as 1: tokio rejects 0, and a rendezvous channel is
// not offered). Senders wait for a free slot in FIFO order, through a fair
// Semaphore of slots; TrySend fails while others are queued. Cancellation
// of a waiting Send is the Semaphore's: the slot it may have been handed is
// passed on, and its value stays in the future — never lost, never sent
// twice.
//
// Receiver::Close() refuses new values (waiting senders fail at once) but
// the queued ones can still be received. Destroying the Receiver destroys
// the values still queued, as in tokio.
//
// Ownership: a SendFuture or RecvFuture borrows its Sender's or Receiver's
// channel: the endpoint must outlive it. Futures must not move once polled.
//
// Cancel-safe (docs/cancellation.md): Recv takes nothing when cancelled;
// Send keeps its value (TakeUnsent).
//
// Thread-safety: each endpoint is thread-compatible (one owner at a time);
// different endpoints of one channel may be used from any threads.
#ifndef POLYIO_RUNTIME_SYNC_MPSC_H_
#define POLYIO_RUNTIME_SYNC_MPSC_H_

#include <cstddef>
#include <deque>
#include <memory>
#include <optional>
#include <utility>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "platform/mutex.h"
#include "runtime/sync/semaphore.h"
#include "runtime/sync/wait_list.h"
#include "runtime/task/context.h"
#include "runtime/task/poll.h"
#include "runtime/task/task_header.h"

namespace polyio::sync::mpsc {

namespace internal {

using sync::internal::WaitList;
using sync::internal::WaitNode;
using sync::internal::WakeBatch;

// The state shared by a channel's endpoints.
template <class T>
class Chan {
 public:
  // capacity 0: unbounded.
  explicit Chan(size_t capacity) : capacity_(capacity), slots_(capacity) {}

  bool bounded() const { return capacity_ != 0; }
  size_t capacity() const { return capacity_; }
  Semaphore& slots() { return slots_; }

  void AddSender() {
    MutexLock lock(&mu_);
    ++senders_;
  }
  void DropSender() {
    WakeBatch wake;
    MutexLock lock(&mu_);
    if (--senders_ == 0) WakeReceiverLocked(wake);
  }

  bool closed() {
    MutexLock lock(&mu_);
    return closed_;
  }

  // Queues the value (moving from it only on success).
  template <class V>
  absl::Status Push(V&& value, const char* op) {
    WakeBatch wake;
    MutexLock lock(&mu_);
    if (closed_) {
      return absl::FailedPreconditionError(
          absl::StrCat(op, ": receiver closed"));
    }
    queue_.push_back(std::forward<V>(value));
    WakeReceiverLocked(wake);
    return absl::OkStatus();
  }

  // One receive attempt: a value; OutOfRange at the end; Unavailable when
  // empty (then `waiter`, if given, is queued with cx's waker); nullopt when
  // a value is there but the task has spent its budget (it was woken to
  // come back for it).
  std::optional<absl::StatusOr<T>> TryTake(const char* op, Context* cx,
                                           WaitNode* waiter) {
    std::optional<absl::StatusOr<T>> out;
    {
      MutexLock lock(&mu_);
      if (!queue_.empty()) {
        if (cx != nullptr && !cx->ConsumeBudget()) {
          cx->waker().WakeByRef();
          return std::nullopt;
        }
        out.emplace(std::move(queue_.front()));
        queue_.pop_front();
        if (waiter != nullptr && waiter->linked()) rx_waiting_.Remove(waiter);
      } else if (closed_ || senders_ == 0) {
        if (waiter != nullptr && waiter->linked()) rx_waiting_.Remove(waiter);
        return absl::StatusOr<T>(absl::OutOfRangeError(
            absl::StrCat(op, ": channel closed and drained")));
      } else {
        if (waiter != nullptr) {
          waiter->SetWaker(cx->waker());
          if (!waiter->linked()) rx_waiting_.PushBack(waiter);
        }
        return absl::StatusOr<T>(
            absl::UnavailableError(absl::StrCat(op, ": channel empty")));
      }
    }
    // The slot is free once the value is out; hand it to a waiting sender.
    if (bounded()) slots_.AddPermits(1).IgnoreError();
    return out;
  }

  void Unlink(WaitNode* waiter) {
    MutexLock lock(&mu_);
    if (waiter->linked()) rx_waiting_.Remove(waiter);
  }

  // Refuses new values; waiting senders fail.
  void Close() {
    {
      MutexLock lock(&mu_);
      closed_ = true;
    }
    slots_.Close();
  }

  // Close, and destroy the values nobody will receive (outside the lock: a
  // value's destructor may use channels too).
  void CloseAndDrain() {
    std::deque<T> dropped;
    {
      MutexLock lock(&mu_);
      closed_ = true;
      dropped.swap(queue_);
    }
    slots_.Close();
  }

 private:
  void WakeReceiverLocked(WakeBatch& wake) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    if (WaitNode* w = rx_waiting_.PopFront()) wake.Add(w);
  }

  const size_t capacity_;
  Semaphore slots_;  // free slots of a bounded channel
  polyio::Mutex mu_;
  std::deque<T> queue_ ABSL_GUARDED_BY(mu_);
  size_t senders_ ABSL_GUARDED_BY(mu_) = 1;
  bool closed_ ABSL_GUARDED_BY(mu_) = false;
  WaitList<WaitNode> rx_waiting_ ABSL_GUARDED_BY(mu_);
};

// Sender counting shared by Sender and UnboundedSender.
template <class T>
class SenderBase {
 public:
  SenderBase(const SenderBase& other) : chan_(other.chan_) {
    if (chan_ != nullptr) chan_->AddSender();
  }
  SenderBase(SenderBase&&) noexcept = default;
  SenderBase& operator=(const SenderBase& other) {
    if (this != &other) *this = SenderBase(other);
    return *this;
  }
  SenderBase& operator=(SenderBase&& other) noexcept {
    if (this != &other) {
      Drop();
      chan_ = std::move(other.chan_);
    }
    return *this;
  }
  ~SenderBase() { Drop(); }

  // True once the Receiver is gone or closed: every send would fail.
  bool IsClosed() const { return chan_ == nullptr || chan_->closed(); }

 protected:
  explicit SenderBase(std::shared_ptr<Chan<T>> chan) : chan_(std::move(chan)) {}

  void Drop() {
    if (chan_ != nullptr) std::exchange(chan_, nullptr)->DropSender();
  }

  std::shared_ptr<Chan<T>> chan_;
};

}  // namespace internal

template <class T>
class Receiver;

// The sending end of a bounded channel. Copyable.
template <class T>
class Sender : public internal::SenderBase<T> {
 public:
  class SendFuture;

  // Waits for a free slot, then queues `value`. Output: absl::Status.
  SendFuture Send(T value) {
    return SendFuture(this->chan_.get(), std::move(value));
  }

  // Queues the value now if a slot is free; moves from it only on success.
  absl::Status TrySend(T&& value) { return TrySendImpl(std::move(value)); }
  absl::Status TrySend(const T& value) { return TrySendImpl(value); }

  size_t capacity() const { return this->chan_->capacity(); }

 private:
  template <class U>
  friend std::pair<Sender<U>, Receiver<U>> Channel(size_t capacity);
  explicit Sender(std::shared_ptr<internal::Chan<T>> chan)
      : internal::SenderBase<T>(std::move(chan)) {}

  template <class V>
  absl::Status TrySendImpl(V&& value) {
    if (this->chan_ == nullptr) {
      return absl::FailedPreconditionError("mpsc try_send: moved-from sender");
    }
    absl::StatusOr<SemaphorePermit> slot = this->chan_->slots().TryAcquire(1);
    if (!slot.ok()) {
      if (this->chan_->slots().IsClosed()) {
        return absl::FailedPreconditionError("mpsc try_send: receiver closed");
      }
      return absl::ResourceExhaustedError(absl::StrCat(
          "mpsc try_send: channel full (capacity ", capacity(), ")"));
    }
    absl::Status s = this->chan_->Push(std::forward<V>(value), "mpsc try_send");
    if (s.ok()) slot->Forget();  // the slot now holds the value
    return s;
  }
};

template <class T>
class [[nodiscard]] Sender<T>::SendFuture {
 public:
  SendFuture(internal::Chan<T>* chan, T value)
      : chan_(chan),
        value_(std::move(value)),
        acquire_(chan == nullptr ? nullptr : &chan->slots(), 1, "mpsc send") {}
  // Moving is allowed only before the first poll.
  SendFuture(SendFuture&&) noexcept = default;
  SendFuture& operator=(SendFuture&&) = delete;

  polyio::Poll<absl::Status> Poll(Context& cx) {
    if (chan_ == nullptr) {
      return absl::FailedPreconditionError("mpsc send: moved-from sender");
    }
    if (!value_.has_value()) {
      return absl::FailedPreconditionError(
          "mpsc send: polled again after it completed");
    }
    polyio::Poll<absl::StatusOr<SemaphorePermit>> slot = acquire_.Poll(cx);
    if (slot.pending()) return kPending;
    if (!slot.value().ok()) {
      const absl::Status& s = slot.value().status();
      if (absl::IsFailedPrecondition(s)) {  // the slots closed with the channel
        return absl::FailedPreconditionError("mpsc send: receiver closed");
      }
      return s;
    }
    absl::Status s = chan_->Push(std::move(*value_), "mpsc send");
    if (s.ok()) {
      value_.reset();
      slot.value()->Forget();  // the slot now holds the value
    }
    return s;
  }

  // The value, if this Send did not deliver it (failed or cancelled).
  std::optional<T> TakeUnsent() { return std::exchange(value_, std::nullopt); }

 private:
  internal::Chan<T>* chan_;
  std::optional<T> value_;
  Semaphore::AcquireFuture acquire_;
};

// The sending end of an unbounded channel. Copyable.
template <class T>
class UnboundedSender : public internal::SenderBase<T> {
 public:
  // Queues the value; moves from it only on success.
  absl::Status Send(T&& value) { return SendImpl(std::move(value)); }
  absl::Status Send(const T& value) { return SendImpl(value); }

 private:
  template <class U>
  friend std::pair<UnboundedSender<U>, Receiver<U>> UnboundedChannel();
  explicit UnboundedSender(std::shared_ptr<internal::Chan<T>> chan)
      : internal::SenderBase<T>(std::move(chan)) {}

  template <class V>
  absl::Status SendImpl(V&& value) {
    if (this->chan_ == nullptr) {
      return absl::FailedPreconditionError("mpsc send: moved-from sender");
    }
    return this->chan_->Push(std::forward<V>(value), "mpsc send");
  }
};

// The receiving end of a bounded or unbounded channel. Move-only.
template <class T>
class Receiver {
 public:
  class RecvFuture;

  Receiver(Receiver&&) noexcept = default;
  Receiver& operator=(Receiver&& other) noexcept {
    if (this != &other) {
      Drop();
      chan_ = std::move(other.chan_);
    }
    return *this;
  }
  ~Receiver() { Drop(); }

  // Output: absl::StatusOr<T>.
  RecvFuture Recv() { return RecvFuture(chan_.get()); }

  absl::StatusOr<T> TryRecv() {
    if (chan_ == nullptr) {
      return absl::FailedPreconditionError(
          "mpsc try_recv: moved-from receiver");
    }
    return *chan_->TryTake("mpsc try_recv", nullptr, nullptr);
  }

  // Refuses new values; the queued ones can still be received.
  void Close() {
    if (chan_ != nullptr) chan_->Close();
  }

 private:
  template <class U>
  friend std::pair<Sender<U>, Receiver<U>> Channel(size_t capacity);
  template <class U>
  friend std::pair<UnboundedSender<U>, Receiver<U>> UnboundedChannel();
  explicit Receiver(std::shared_ptr<internal::Chan<T>> chan)
      : chan_(std::move(chan)) {}

  void Drop() {
    if (chan_ != nullptr) std::exchange(chan_, nullptr)->CloseAndDrain();
  }

  std::shared_ptr<internal::Chan<T>> chan_;
};

template <class T>
class [[nodiscard]] Receiver<T>::RecvFuture {
 public:
  explicit RecvFuture(internal::Chan<T>* chan) : chan_(chan) {}
  // Moving is allowed only before the first poll.
  RecvFuture(RecvFuture&& other) noexcept : chan_(other.chan_) {}
  RecvFuture& operator=(RecvFuture&&) = delete;
  ~RecvFuture() {
    if (chan_ != nullptr) chan_->Unlink(&node_);
  }

  polyio::Poll<absl::StatusOr<T>> Poll(Context& cx) {
    if (chan_ == nullptr) {
      return absl::StatusOr<T>(
          absl::FailedPreconditionError("mpsc recv: moved-from receiver"));
    }
    if (cx.cancelled()) {
      chan_->Unlink(&node_);
      return absl::StatusOr<T>(absl::CancelledError("mpsc recv: cancelled"));
    }
    std::optional<absl::StatusOr<T>> r =
        chan_->TryTake("mpsc recv", &cx, &node_);
    if (!r.has_value() || absl::IsUnavailable(r->status())) {
      polyio::internal::TaskHeader::NoteWaitChannel(cx, "mpsc receive");
      return kPending;
    }
    return std::move(*r);
  }

 private:
  internal::Chan<T>* chan_;
  internal::WaitNode node_;
};

template <class T>
std::pair<Sender<T>, Receiver<T>> Channel(size_t capacity) {
  auto chan = std::make_shared<internal::Chan<T>>(capacity == 0 ? 1 : capacity);
  return {Sender<T>(chan), Receiver<T>(chan)};
}

template <class T>
std::pair<UnboundedSender<T>, Receiver<T>> UnboundedChannel() {
  auto chan = std::make_shared<internal::Chan<T>>(0);
  return {UnboundedSender<T>(chan), Receiver<T>(chan)};
}

}  // namespace polyio::sync::mpsc

#endif  // POLYIO_RUNTIME_SYNC_MPSC_H_
