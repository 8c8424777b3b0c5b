// Sleep, SleepUntil: futures that complete once a deadline has passed.
//
// Never early: the deadline is checked against the monotonic clock, and the
// timer wheel rounds deadlines up (timer_wheel.h). Lateness is bounded by the
// wheel's tick (1 ms) plus one driver turn. A deadline already passed
// completes at once without touching the wheel.
//
// Output: OkStatus when the deadline passed; CancelledError when the task was
// cancelled first. Dropping a pending sleep removes its timer (O(1)).
//
// The timer lives in the wheel of the driver that first polled the sleep;
// it fires there, and wakes the task wherever it runs. A task that moved to
// another worker removes it through that driver (Driver::RunOnDriverThread).
//
// Cancel-safe (docs/cancellation.md): a cancelled or dropped sleep only
// removes its timer.
//
// Thread-compatible: polled by one task at a time, which may move between
// threads; must not move once polled.
#ifndef POLYIO_RUNTIME_TIME_SLEEP_H_
#define POLYIO_RUNTIME_TIME_SLEEP_H_

#include <atomic>

#include "absl/status/status.h"
#include "platform/clock.h"
#include "runtime/driver/driver.h"
#include "runtime/task/atomic_waker.h"
#include "runtime/task/context.h"
#include "runtime/task/poll.h"
#include "runtime/time/timer_wheel.h"

namespace polyio {

class SleepFuture {
 public:
  explicit SleepFuture(Instant deadline) : entry_(&Fire), deadline_(deadline) {}
  // Moving is allowed only before the first poll.
  SleepFuture(SleepFuture&& other) noexcept;
  SleepFuture& operator=(SleepFuture&&) = delete;
  ~SleepFuture();

  Instant deadline() const { return deadline_; }
  polyio::Poll<absl::Status> Poll(Context& cx);

 private:
  static void Fire(TimerEntry* entry);
  void RemoveTimer();

  TimerEntry entry_;
  Instant deadline_;
  std::atomic<bool> fired_{false};
  Driver* driver_ = nullptr;  // the wheel's, once inserted
  AtomicWaker waker_;
};

inline SleepFuture SleepUntil(Instant deadline) {
  return SleepFuture(deadline);
}
inline SleepFuture Sleep(Duration duration) {
  return SleepFuture(Now() + duration);
}

}  // namespace polyio

#endif  // POLYIO_RUNTIME_TIME_SLEEP_H_
