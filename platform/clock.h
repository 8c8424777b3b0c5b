// Clocks: the one monotonic clock every deadline in polyio is measured on.
//
// std::chrono::steady_clock is CLOCK_MONOTONIC on Linux, macOS and the BSDs:
// it never goes back and does not jump with wall-clock changes, which is what
// timers that must never fire early need.
//
// Now() is that clock, except while time is paused (runtime/time/pause.h, for
// tests): it then stands still at the instant of the pause, and moves only
// when told to (AdvanceTime) or when every driver is idle (it jumps to the
// next timer). After ResumeTime it runs again from where it stood, so it
// never goes back. RealNow() is the OS clock always, for what must not
// pause: condition-variable timeouts of polyio's own threads.
//
// Thread-safe. Unpaused, Now() costs two relaxed loads over the clock read.
#ifndef POLYIO_PLATFORM_CLOCK_H_
#define POLYIO_PLATFORM_CLOCK_H_

#include <atomic>
#include <chrono>
#include <cstdint>

namespace polyio {

using MonotonicClock = std::chrono::steady_clock;
using Instant = MonotonicClock::time_point;
using Duration = std::chrono::nanoseconds;

namespace internal {

// The process's clock state; written only by runtime/time/pause.h's
// functions (runtime/driver/paused_time.cc).
struct ClockState {
  std::atomic<bool> paused{false};
  // While paused: the instant time stands at, in ns since the clock's epoch.
  std::atomic<int64_t> paused_at_ns{0};
  // While running: how far ahead of the OS clock time is (the total it was
  // advanced while paused).
  std::atomic<int64_t> ahead_ns{0};
};
inline ClockState clock_state;

}  // namespace internal

inline Instant RealNow() { return MonotonicClock::now(); }

inline Instant Now() {
  const internal::ClockState& c = internal::clock_state;
  if (c.paused.load(std::memory_order_acquire)) {
    return Instant(Duration(c.paused_at_ns.load(std::memory_order_acquire)));
  }
  return MonotonicClock::now() +
         Duration(c.ahead_ns.load(std::memory_order_relaxed));
}

inline bool TimePaused() {
  return internal::clock_state.paused.load(std::memory_order_relaxed);
}

}  // namespace polyio

#endif  // POLYIO_PLATFORM_CLOCK_H_
