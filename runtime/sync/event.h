// Event: a flag tasks can wait for — asyncio.Event / a manual-reset event.
//
//   polyio::sync::Event ready;
//   absl::Status s = co_await ready.Wait();   // until Set()
//   ready.Set();                               // any thread
//
// Set() raises the flag and releases every waiter; Wait() on a set event
// completes at once. Clear() lowers the flag for later waiters only: a
// waiter released by Set() completes even if Clear() comes before its task
// runs (the event happened; it is not lost). tokio has no Event; this is
// asyncio's and Win32's manual-reset event.
//
// Cancellation (docs/cancellation.md): a Wait polled in a cancelled task fails
// with CancelledError unless it was already released; one destroyed while
// waiting just leaves the queue (Set releases everybody, so there is nothing
// to pass on).
//
// Ownership: the Event must outlive its futures. A Wait future must not move
// once polled.
//
// Cancel-safe (docs/cancellation.md): nothing to lose.
//
// Thread-safe.
#ifndef POLYIO_RUNTIME_SYNC_EVENT_H_
#define POLYIO_RUNTIME_SYNC_EVENT_H_

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "platform/mutex.h"
#include "runtime/sync/wait_list.h"
#include "runtime/task/context.h"
#include "runtime/task/poll.h"

namespace polyio::sync {

class Event {
 public:
  class WaitFuture;

  explicit Event(bool set = false) : set_(set) {}
  Event(const Event&) = delete;
  Event& operator=(const Event&) = delete;

  void Set();
  void Clear();
  bool IsSet() const;
  // Output: absl::Status (OkStatus once set, CancelledError).
  WaitFuture Wait();

 private:
  struct Waiter : internal::WaitNode {
    bool released = false;
  };

  mutable polyio::Mutex mu_;
  bool set_ ABSL_GUARDED_BY(mu_);
  internal::WaitList<Waiter> waiters_ ABSL_GUARDED_BY(mu_);
};

class [[nodiscard]] Event::WaitFuture {
 public:
  explicit WaitFuture(Event* event) : event_(event) {}
  // Moving is allowed only before the first poll.
  WaitFuture(WaitFuture&& other) noexcept : event_(other.event_) {}
  WaitFuture& operator=(WaitFuture&&) = delete;
  ~WaitFuture();

  polyio::Poll<absl::Status> Poll(Context& cx);

 private:
  enum class State { kIdle, kWaiting, kDone };

  Event* event_;
  State state_ = State::kIdle;
  Waiter node_;
};

inline Event::WaitFuture Event::Wait() { return WaitFuture(this); }

}  // namespace polyio::sync

#endif  // POLYIO_RUNTIME_SYNC_EVENT_H_
