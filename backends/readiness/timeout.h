// MillisecondTimeout: Backend::Wait's nanosecond timeout as the milliseconds
// that epoll_wait(2) and poll(2) take, for the pollers that must fall back
// to them (no epoll_pwait2 in the kernel, no ppoll on the platform).
//
// Rounded up, because Wait promises never to return early on a timeout: a
// 1.5 ms wait becomes 2 ms, 1 ns becomes 1 ms. -1 (no limit) and 0 (do not
// block) keep their meaning. Past 2^40 ns (about 18 minutes) the result is
// capped at 2^30 ms (about 12 days), so that it fits an int: a wait between
// the two ends later than asked, never earlier, and a longer one ends after
// 12 days having delivered nothing, as a turn interrupted by a signal does;
// the caller's loop then waits again.
//
// A pure function: thread-safe.
#ifndef POLYIO_BACKENDS_READINESS_TIMEOUT_H_
#define POLYIO_BACKENDS_READINESS_TIMEOUT_H_

#include <cstdint>

namespace polyio {

constexpr int MillisecondTimeout(int64_t timeout_ns) {
  if (timeout_ns < 0) return -1;
  if (timeout_ns > int64_t{1} << 40) return 1 << 30;
  return static_cast<int>((timeout_ns + 999'999) / 1'000'000);
}

}  // namespace polyio

#endif  // POLYIO_BACKENDS_READINESS_TIMEOUT_H_
