#include "runtime/sync/cancellation_token.h"

namespace polyio::sync {

using internal::TokenState;
using internal::WakeBatch;

void CancellationToken::Cancel() const {
  if (state_->cancelled.exchange(true, std::memory_order_acq_rel)) return;
  std::vector<std::weak_ptr<TokenState>> children;
  {
    WakeBatch wake;  // after the lock: a woken task may want it
    MutexLock lock(&state_->mu);
    while (internal::TokenWaiter* w = state_->waiters.PopFront()) wake.Add(w);
    children.swap(state_->children);
  }
  // Outside the lock, one level at a time: a deep tree does not hold a
  // chain of locks.
  for (std::weak_ptr<TokenState>& weak : children) {
    if (std::shared_ptr<TokenState> child = weak.lock()) {
      CancellationToken(std::move(child)).Cancel();
    }
  }
}

CancellationToken CancellationToken::Child() const {
  CancellationToken child;
  {
    MutexLock lock(&state_->mu);
    if (!IsCancelled()) {
      // Drop the children that are gone, so that a long-lived parent of
      // many short-lived children does not grow without bound.
      std::erase_if(state_->children, [](const std::weak_ptr<TokenState>& c) {
        return c.expired();
      });
      state_->children.push_back(child.state_);
      return child;
    }
  }
  child.Cancel();  // made from a cancelled token
  return child;
}

namespace internal {

bool WaitOn(TokenState& state, TokenWaiter& node, const Waker& waker) {
  if (state.cancelled.load(std::memory_order_acquire)) return true;
  MutexLock lock(&state.mu);
  // Cancel sets the flag before it takes the lock: checked again under it,
  // a Cancel either sees this node linked or happened before this check.
  if (state.cancelled.load(std::memory_order_acquire)) return true;
  node.SetWaker(waker);
  if (!node.linked()) state.waiters.PushBack(&node);
  return false;
}

void StopWaiting(TokenState& state, TokenWaiter& node) {
  Waker dropped;  // released after the lock
  MutexLock lock(&state.mu);
  if (node.linked()) state.waiters.Remove(&node);
  dropped = node.TakeWaker();
}

}  // namespace internal
}  // namespace polyio::sync
