// Clocks: the one monotonic clock every deadline in polyio is measured on.
//
// std::chrono::steady_clock is CLOCK_MONOTONIC on Linux, macOS and the BSDs:
// it never goes back and does not jump with wall-clock changes, which is what
// timers that must never fire early need. Thread-safe.
#ifndef POLYIO_PLATFORM_CLOCK_H_
#define POLYIO_PLATFORM_CLOCK_H_

#include <chrono>

namespace polyio {

using MonotonicClock = std::chrono::steady_clock;
using Instant = MonotonicClock::time_point;
using Duration = std::chrono::nanoseconds;

inline Instant Now() { return MonotonicClock::now(); }

}  // namespace polyio

#endif  // POLYIO_PLATFORM_CLOCK_H_
