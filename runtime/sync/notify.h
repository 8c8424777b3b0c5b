// Notify: wakes waiting tasks without carrying data — tokio's sync::Notify.
//
//   polyio::sync::Notify n;
//   absl::Status s = co_await n.Notified();   // in one task
//   n.NotifyOne();                             // in another, any thread
//
// - NotifyOne wakes the longest-waiting Notified; if nobody waits, it stores
//   one permit, which the next Notified consumes at once. Permits do not
//   add up: several NotifyOne calls with nobody waiting store one.
// - NotifyAll wakes every Notified waiting now, and also every Notified
//   future created before the call but not yet polled (so the usual
//   "create the future, check the condition, await" pattern loses no
//   wake-up, as in tokio). It stores no permit.
//
// Cancellation (docs/cancellation.md): a Notified polled in a cancelled task
// fails with CancelledError and leaves the queue. If a NotifyOne had already
// picked it, it returns OkStatus instead (the notification won the race); a
// Notified future destroyed after being picked by NotifyOne passes the
// notification on to the next waiter, or stores it as the permit. No
// notification is lost.
//
// Ownership: the Notify must outlive its futures. A Notified future must not
// move once polled.
//
// Cancel-safe (docs/cancellation.md): a notification picked for a
// cancelled waiter is passed on.
//
// Thread-safe.
#ifndef POLYIO_RUNTIME_SYNC_NOTIFY_H_
#define POLYIO_RUNTIME_SYNC_NOTIFY_H_

#include <atomic>
#include <cstdint>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "platform/mutex.h"
#include "runtime/sync/wait_list.h"
#include "runtime/task/context.h"
#include "runtime/task/poll.h"

namespace polyio::sync {

class Notify {
 public:
  class NotifiedFuture;

  Notify() = default;
  Notify(const Notify&) = delete;
  Notify& operator=(const Notify&) = delete;

  void NotifyOne();
  void NotifyAll();
  // Output: absl::Status (OkStatus when notified, CancelledError).
  NotifiedFuture Notified();

 private:
  enum class Outcome { kWaiting, kNotifiedOne, kNotifiedAll };
  struct Waiter : internal::WaitNode {
    Outcome outcome = Outcome::kWaiting;
  };

  void NotifyOneLocked(internal::WakeBatch& wake)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  polyio::Mutex mu_;
  bool permit_ ABSL_GUARDED_BY(mu_) = false;
  internal::WaitList<Waiter> waiters_ ABSL_GUARDED_BY(mu_);
  // Bumped (under mu_) by every NotifyAll; read without it when a Notified
  // future is created.
  std::atomic<uint64_t> generation_{0};
};

class [[nodiscard]] Notify::NotifiedFuture {
 public:
  // Moving is allowed only before the first poll.
  NotifiedFuture(NotifiedFuture&& other) noexcept
      : notify_(other.notify_), generation_(other.generation_) {}
  NotifiedFuture& operator=(NotifiedFuture&&) = delete;
  ~NotifiedFuture();

  polyio::Poll<absl::Status> Poll(Context& cx);

 private:
  friend class Notify;
  enum class State { kIdle, kWaiting, kDone };
  NotifiedFuture(Notify* notify, uint64_t generation)
      : notify_(notify), generation_(generation) {}

  Notify* notify_;
  uint64_t generation_;
  State state_ = State::kIdle;
  Waiter node_;
};

inline Notify::NotifiedFuture Notify::Notified() {
  return NotifiedFuture(this, generation_.load(std::memory_order_acquire));
}

}  // namespace polyio::sync

#endif  // POLYIO_RUNTIME_SYNC_NOTIFY_H_
