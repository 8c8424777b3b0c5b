// oneshot: a channel for exactly one value — tokio's sync::oneshot.
//
//   auto [tx, rx] = polyio::sync::oneshot::Channel<int>();
//   tx.Send(42);                                   // any thread, once
//   absl::StatusOr<int> v = co_await rx;           // the Receiver is a future
//
// Statuses (the same codes as every polyio::sync channel, docs/sync.md):
//   Receiver: the value; OutOfRange when the Sender was destroyed without
//             sending (the end of the channel); CancelledError when the task
//             was cancelled — the value, if any, stays in the channel and a
//             later poll or TryRecv still gets it.
//   Sender::Send: OkStatus; FailedPrecondition when the Receiver is gone or
//             closed, or a value was already sent — the argument is then
//             left untouched (tokio returns it in the error).
//
// Unlike other polyio futures the Receiver may be moved after it was
// polled: its wait-list node lives in the shared state, not in the future.
//
// Cancel-safe (docs/cancellation.md): a cancelled Recv leaves the value in
// the channel.
//
// Thread-safety: Sender and Receiver are each thread-compatible (one owner
// at a time); the two ends may be used from different threads.
#ifndef POLYIO_RUNTIME_SYNC_ONESHOT_H_
#define POLYIO_RUNTIME_SYNC_ONESHOT_H_

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
#include "runtime/task/task_header.h"

namespace polyio::sync::oneshot {

namespace internal {

template <class T>
struct Shared {
  polyio::Mutex mu;
  std::optional<T> value ABSL_GUARDED_BY(mu);
  bool sent ABSL_GUARDED_BY(mu) = false;
  bool sender_alive ABSL_GUARDED_BY(mu) = true;
  bool receiver_open ABSL_GUARDED_BY(mu) = true;
  bool received ABSL_GUARDED_BY(mu) = false;
  // The receiver's node (there is one receiver, so it lives here).
  sync::internal::WaitNode rx_node ABSL_GUARDED_BY(mu);
  sync::internal::WaitList<sync::internal::WaitNode> rx_waiting
      ABSL_GUARDED_BY(mu);

  void WakeReceiverLocked(sync::internal::WakeBatch& wake)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu) {
    if (rx_node.linked()) {
      rx_waiting.Remove(&rx_node);
      wake.Add(&rx_node);
    }
  }
};

}  // namespace internal

template <class T>
class Receiver;

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

  // Moves from `value` only on success.
  absl::Status Send(T&& value) { return SendImpl(std::move(value)); }
  absl::Status Send(const T& value) { return SendImpl(value); }

  // True once the Receiver is gone or closed: a Send would fail.
  bool IsClosed() const {
    if (shared_ == nullptr) return true;
    MutexLock lock(&shared_->mu);
    return !shared_->receiver_open;
  }

 private:
  template <class U>
  friend std::pair<Sender<U>, Receiver<U>> Channel();
  explicit Sender(std::shared_ptr<internal::Shared<T>> s)
      : shared_(std::move(s)) {}

  template <class V>
  absl::Status SendImpl(V&& value) {
    if (shared_ == nullptr) {
      return absl::FailedPreconditionError("oneshot send: moved-from sender");
    }
    sync::internal::WakeBatch wake;
    MutexLock lock(&shared_->mu);
    if (shared_->sent) {
      return absl::FailedPreconditionError("oneshot send: already sent");
    }
    if (!shared_->receiver_open) {
      return absl::FailedPreconditionError("oneshot send: receiver closed");
    }
    shared_->value.emplace(std::forward<V>(value));
    shared_->sent = true;
    shared_->WakeReceiverLocked(wake);
    return absl::OkStatus();
  }

  void Drop() {
    if (shared_ == nullptr) return;
    {
      sync::internal::WakeBatch wake;
      MutexLock lock(&shared_->mu);
      shared_->sender_alive = false;
      shared_->WakeReceiverLocked(wake);
    }
    shared_.reset();
  }

  std::shared_ptr<internal::Shared<T>> shared_;
};

template <class T>
class [[nodiscard]] Receiver {
 public:
  Receiver(Receiver&&) noexcept = default;
  Receiver& operator=(Receiver&& other) noexcept {
    if (this != &other) {
      Drop();
      shared_ = std::move(other.shared_);
    }
    return *this;
  }
  ~Receiver() { Drop(); }

  // The Future interface: Output absl::StatusOr<T>.
  polyio::Poll<absl::StatusOr<T>> Poll(Context& cx) {
    if (shared_ == nullptr) {
      return absl::StatusOr<T>(
          absl::FailedPreconditionError("oneshot recv: moved-from receiver"));
    }
    Waker dropped;  // released after the lock
    MutexLock lock(&shared_->mu);
    if (cx.cancelled()) {
      dropped = Unlink();
      return absl::StatusOr<T>(absl::CancelledError("oneshot recv: cancelled"));
    }
    absl::StatusOr<T> r = TakeLocked();
    if (!absl::IsUnavailable(r.status())) {
      dropped = Unlink();
      return r;
    }
    shared_->rx_node.SetWaker(cx.waker());
    if (!shared_->rx_node.linked())
      shared_->rx_waiting.PushBack(&shared_->rx_node);
    polyio::internal::TaskHeader::NoteWaitChannel(cx, "oneshot receive");
    return kPending;
  }

  // The value if it was sent; Unavailable if not yet; OutOfRange if it
  // never will be.
  absl::StatusOr<T> TryRecv() {
    if (shared_ == nullptr) {
      return absl::FailedPreconditionError(
          "oneshot try_recv: moved-from receiver");
    }
    MutexLock lock(&shared_->mu);
    return TakeLocked();
  }

  // Refuses the value from now on (the Sender's Send fails); a value sent
  // before still arrives.
  void Close() {
    if (shared_ == nullptr) return;
    MutexLock lock(&shared_->mu);
    shared_->receiver_open = false;
  }

 private:
  template <class U>
  friend std::pair<Sender<U>, Receiver<U>> Channel();
  explicit Receiver(std::shared_ptr<internal::Shared<T>> s)
      : shared_(std::move(s)) {}

  absl::StatusOr<T> TakeLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(shared_->mu) {
    if (shared_->value.has_value()) {
      absl::StatusOr<T> r(std::move(*shared_->value));
      shared_->value.reset();
      shared_->received = true;
      return r;
    }
    if (shared_->received) {
      return absl::FailedPreconditionError(
          "oneshot recv: the value was already received");
    }
    if (!shared_->sender_alive || !shared_->receiver_open) {
      return absl::OutOfRangeError(
          "oneshot recv: channel closed without a value");
    }
    return absl::UnavailableError("oneshot recv: no value yet");
  }

  // Stops waiting: unlinks the receiver's node and hands back its waker,
  // for the caller to drop once the lock is released. The node lives in the
  // shared state, which the Sender keeps alive: a waker left in it would
  // keep the receiving task alive until the Sender goes (found by fuzzing).
  Waker Unlink() ABSL_EXCLUSIVE_LOCKS_REQUIRED(shared_->mu) {
    if (shared_->rx_node.linked()) {
      shared_->rx_waiting.Remove(&shared_->rx_node);
    }
    return shared_->rx_node.TakeWaker();
  }

  void Drop() {
    if (shared_ == nullptr) return;
    std::optional<T> unreceived;  // destroyed after the lock is released
    Waker dropped;                // likewise
    {
      MutexLock lock(&shared_->mu);
      shared_->receiver_open = false;
      dropped = Unlink();
      unreceived = std::move(shared_->value);
      shared_->value.reset();
    }
    shared_.reset();
  }

  std::shared_ptr<internal::Shared<T>> shared_;
};

template <class T>
std::pair<Sender<T>, Receiver<T>> Channel() {
  auto shared = std::make_shared<internal::Shared<T>>();
  return {Sender<T>(shared), Receiver<T>(shared)};
}

}  // namespace polyio::sync::oneshot

#endif  // POLYIO_RUNTIME_SYNC_ONESHOT_H_
