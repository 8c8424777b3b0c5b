// Yield(): give the other ready tasks a turn.
//
//   absl::Status s = co_await polyio::Yield();
//
// The first poll wakes the task's own waker and returns Pending, so the task
// goes to the back of its run queue (tokio's `yield_now`, asyncio's
// `sleep(0)`); the second poll completes. Inside WhenAll/WhenAny the waker is
// the child's, so Yield lets the sibling children run too.
//
// Like every leaf future that can fail, it reports cancellation: once the
// task (or an enclosing scope) is cancelled, the poll returns
// absl::CancelledError instead of yielding. Otherwise OkStatus.
//
// Cancel-safe (docs/cancellation.md): nothing to lose.
//
// Thread-compatible; a plain value, it may move before its first poll.
#ifndef POLYIO_RUNTIME_COMPOSE_YIELD_H_
#define POLYIO_RUNTIME_COMPOSE_YIELD_H_

#include "absl/status/status.h"
#include "runtime/task/context.h"
#include "runtime/task/poll.h"

namespace polyio {

class YieldFuture {
 public:
  polyio::Poll<absl::Status> Poll(Context& cx) {
    if (cx.cancelled()) return absl::CancelledError("yield: cancelled");
    if (yielded_) return absl::OkStatus();
    yielded_ = true;
    cx.waker().WakeByRef();
    return kPending;
  }

 private:
  bool yielded_ = false;
};

inline YieldFuture Yield() { return YieldFuture(); }

}  // namespace polyio

#endif  // POLYIO_RUNTIME_COMPOSE_YIELD_H_
