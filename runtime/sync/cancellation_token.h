// CancellationToken: one cancellation signal for a tree of tasks — what
// tokio-util's CancellationToken is.
//
//   CancellationToken root;
//   CancellationToken child = root.Child();     // cancelled with root too
//   Spawn(WithCancellation(child, Serve(std::move(stream)))).Detach();
//   ...
//   root.Cancel();                  // Serve's next suspension point fails
//   absl::Status s = co_await child.Cancelled();   // OkStatus by now
//
// - Cancel() is idempotent, thread-safe, and reaches every child token (and
//   theirs), made before or after; a child made from a cancelled token is
//   cancelled at once. Cancelling a child does not cancel its parent.
// - Cancelled() is a future that completes with OkStatus once the token is
//   cancelled. Like every leaf future it reports CancelledError if the task
//   awaiting it is cancelled first.
// - WithCancellation(token, future) runs `future` under the token: once the
//   token is cancelled, the future is cancelled the way Abort or Timeout
//   cancel — through a cancellation scope in its Context (context.h), so
//   its current and later suspension points report CancelledError and an
//   operation in flight is cancelled in the backend and awaited. Its output
//   is whatever the future returns then. Runtime::Shutdown cancels the
//   runtime's root token (runtime.h).
//
// Cancel-safe (docs/cancellation.md): Cancelled() takes nothing;
// WithCancellation's is that of the future it runs.
//
// A token is a handle to shared state: copies are the same token.
// Thread-safe. The futures must not move once polled.
#ifndef POLYIO_RUNTIME_SYNC_CANCELLATION_TOKEN_H_
#define POLYIO_RUNTIME_SYNC_CANCELLATION_TOKEN_H_

#include <atomic>
#include <memory>
#include <type_traits>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "platform/mutex.h"
#include "runtime/sync/wait_list.h"
#include "runtime/task/context.h"
#include "runtime/task/future.h"
#include "runtime/task/poll.h"

namespace polyio::sync {

namespace internal {

struct TokenWaiter : WaitNode {};

// The state a token's copies share.
struct TokenState {
  std::atomic<bool> cancelled{false};
  Mutex mu;
  WaitList<TokenWaiter> waiters ABSL_GUARDED_BY(mu);
  std::vector<std::weak_ptr<TokenState>> children ABSL_GUARDED_BY(mu);
};

// Waits on a token: links `node` (once) and stores the polling task's
// waker in it, unless the token is cancelled; then true. Unlink in the
// destructor of whoever owns the node.
bool WaitOn(TokenState& state, TokenWaiter& node, const Waker& waker);
void StopWaiting(TokenState& state, TokenWaiter& node);

}  // namespace internal

class CancellationToken {
 public:
  class CancelledFuture;

  CancellationToken() : state_(std::make_shared<internal::TokenState>()) {}

  // Cancels this token and every child of it. Any thread.
  void Cancel() const;
  bool IsCancelled() const {
    return state_->cancelled.load(std::memory_order_acquire);
  }
  // A token cancelled with this one, or by itself.
  CancellationToken Child() const;
  // Output: absl::Status — OkStatus once cancelled.
  CancelledFuture Cancelled() const;

  internal::TokenState& state() const { return *state_; }

 private:
  explicit CancellationToken(std::shared_ptr<internal::TokenState> state)
      : state_(std::move(state)) {}

  std::shared_ptr<internal::TokenState> state_;
};

class CancellationToken::CancelledFuture {
 public:
  explicit CancelledFuture(CancellationToken token)
      : token_(std::move(token)) {}
  // Moving is allowed only before the first poll: the node is not linked
  // yet, so the moved-to future starts with a fresh one. The token is
  // copied, not moved: the moved-from future's destructor still needs it.
  CancelledFuture(CancelledFuture&& other) noexcept : token_(other.token_) {}
  ~CancelledFuture() { internal::StopWaiting(token_.state(), node_); }

  polyio::Poll<absl::Status> Poll(Context& cx) {
    if (token_.IsCancelled()) return absl::OkStatus();
    if (cx.cancelled()) {
      internal::StopWaiting(token_.state(), node_);
      return absl::CancelledError(
          "cancellation token: the waiting task was "
          "cancelled first");
    }
    if (internal::WaitOn(token_.state(), node_, cx.waker())) {
      return absl::OkStatus();
    }
    return kPending;
  }

 private:
  CancellationToken token_;
  internal::TokenWaiter node_;
};

inline CancellationToken::CancelledFuture CancellationToken::Cancelled() const {
  return CancelledFuture(*this);
}

// The future WithCancellation returns.
template <Future F>
class CancellableFuture {
 public:
  using Output = FutureOutput<F>;

  CancellableFuture(CancellationToken token, F inner)
      : token_(std::move(token)), inner_(std::move(inner)) {}
  // Moving is allowed only before the first poll (the node is not linked;
  // the token is copied for the moved-from future's destructor).
  CancellableFuture(CancellableFuture&& other) noexcept(
      std::is_nothrow_move_constructible_v<F>)
      : token_(other.token_), inner_(std::move(other.inner_)) {}
  ~CancellableFuture() { internal::StopWaiting(token_.state(), node_); }

  polyio::Poll<Output> Poll(Context& cx) {
    // Woken by Cancel (through node_) as well as by the inner future.
    if (!cancelled_) {
      cancelled_ = internal::WaitOn(token_.state(), node_, cx.waker());
    }
    Context scope(cx, cx.waker(), &cancelled_);
    polyio::Poll<Output> out = inner_.Poll(scope);
    if (out.ready()) internal::StopWaiting(token_.state(), node_);
    return out;
  }

 private:
  CancellationToken token_;
  F inner_;
  internal::TokenWaiter node_;
  bool cancelled_ = false;  // read through the inner future's Context
};

template <class F>
requires Future<std::decay_t<F>> CancellableFuture<std::decay_t<F>>
WithCancellation(CancellationToken token, F&& future) {
  return CancellableFuture<std::decay_t<F>>(std::move(token),
                                            std::forward<F>(future));
}

}  // namespace polyio::sync

#endif  // POLYIO_RUNTIME_SYNC_CANCELLATION_TOKEN_H_
